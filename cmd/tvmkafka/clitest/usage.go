package clitest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Usage is what one process run cost.
type Usage struct {
	Wall time.Duration
	// CPU is user plus system time.
	CPU time.Duration
	// PeakRSS is the peak resident memory of the program the process ran, in
	// bytes.
	PeakRSS int64
}

// Measure runs cmd to its end and returns its cost; err is cmd's.
//
// The peak is followed in /proc/<pid>/status (VmHWM) while the process runs,
// not read from the waited child's rusage: Go starts children with vfork
// semantics, and Linux counts the parent's resident memory at the exec into
// the child's ru_maxrss, so every child would be charged the benchmark's own
// process. VmHWM belongs to the memory the exec'd program maps and only
// grows, so the last reading is the peak, up to what the program adds in its
// last few milliseconds.
func Measure(cmd *exec.Cmd) (Usage, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	var peak int64
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb, ok := vmHWM(path); ok && kb<<10 > peak {
				peak = kb << 10
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	err := cmd.Wait()
	u := Usage{Wall: time.Since(start)}
	close(stop)
	<-done
	u.PeakRSS = peak
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return u, err
}

// vmHWM reads the VmHWM line of a /proc status file, in KiB.
func vmHWM(path string) (int64, bool) {
	status, err := os.ReadFile(path)
	if err != nil {
		return 0, false // the process is gone, or not started yet
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// OwnPeakRSS returns the calling process's peak resident memory in bytes,
// VmHWM, which unlike its rusage does not count the parent's memory at the
// exec (see Measure); 0 if unknown.
func OwnPeakRSS() int64 {
	kb, _ := vmHWM("/proc/self/status")
	return kb << 10
}
