package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
)

// memLimitFraction is the share of the container's memory limit the Go
// runtime aims to stay under; the rest is for what the runtime does not count
// (thread stacks, the binary itself) and for headroom before the kernel's
// OOM killer.
const memLimitFraction = 0.9

// cgroupMemoryFiles are the memory limits of cgroup v2 and v1, as a container
// sees its own cgroup mounted at /sys/fs/cgroup.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// setMemoryLimit sets the runtime's soft memory limit from the container's
// memory limit, unless GOMEMLIMIT already set one: without it, the garbage
// collector only paces by GOGC and a burst can take the process past its
// limit. It returns the limit set, or 0.
func setMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range cgroupMemoryFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		limit, ok := parseCgroupLimit(b)
		if !ok {
			return 0
		}
		set := int64(float64(limit) * memLimitFraction)
		debug.SetMemoryLimit(set)
		return set
	}
	return 0
}

// parseCgroupLimit reads a cgroup memory limit: bytes, or "max" (v2) or a
// value near 2^63 (v1) for none.
func parseCgroupLimit(b []byte) (int64, bool) {
	s := string(bytes.TrimSpace(b))
	if s == "" || s == "max" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}

// startCPUProfile writes a CPU profile of the whole process to the file named
// by TVMKAFKA_CPU_PROFILE, for profiling a run as an operator starts it. The
// returned function ends the profile.
//
// default.pgo, beside this file, is what `go build` optimises the binary for
// (profile-guided optimisation): such profiles of `tvmkafka source --once`
// exporting vulns (twice), compliance and assets from `tvmkafka sim --assets
// 10000` into a real broker, merged with `go tool pprof -proto`. Make it again
// the same way after the hot path changed much.
func startCPUProfile() (func(), error) {
	path := os.Getenv("TVMKAFKA_CPU_PROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("TVMKAFKA_CPU_PROFILE: %w", err)
	}
	w := bufio.NewWriter(f)
	if err := pprof.StartCPUProfile(w); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("TVMKAFKA_CPU_PROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := w.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, "TVMKAFKA_CPU_PROFILE:", err)
		}
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "TVMKAFKA_CPU_PROFILE:", strings.TrimSpace(err.Error()))
		}
	}, nil
}
