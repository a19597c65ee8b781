package sink_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// sinkEnv is the environment of a `tvmkafka sink` process on the harness.
func (h *sinkHarness) sinkEnv(extra ...string) []string {
	return append(append(os.Environ(),
		"TVMKAFKA_TENABLE_URL="+h.simURL, "TVMKAFKA_TENABLE_ACCESS_KEY=AK", "TVMKAFKA_TENABLE_SECRET_KEY=SK",
		"TVMKAFKA_KAFKA_BROKERS="+strings.Join(h.brokers, ","), "TVMKAFKA_TOPIC_CREATE=false",
		"TVMKAFKA_TOPIC_INBOUND="+h.inbound, "TVMKAFKA_TOPIC_INBOUND_DLQ="+h.dlq, "TVMKAFKA_SINK_GROUP_ID="+h.group,
		"TVMKAFKA_SINK_JOB_POLL=50ms", "TVMKAFKA_SINK_COMMIT_EVERY=100ms", "TVMKAFKA_SINK_LINGER=200ms",
		// The group hands the killed member's partitions on after this, not 30 s.
		"TVMKAFKA_SINK_SESSION_TIMEOUT=6s",
	), extra...)
}

// offsetIndex maps each partition's offsets to what the record at that offset
// is: the asset's FQDN, or "" for an invalid record.
type offsetIndex map[int][]string

// valid returns the identifiers of the valid records, sorted: what the tenant
// must end up holding.
func (idx offsetIndex) valid() []string {
	var out []string
	for _, fqdns := range idx {
		for _, f := range fqdns {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out
}

// indexTopic reads every record of the inbound topic back.
func (h *sinkHarness) indexTopic(fqdnOf func([]byte) string) offsetIndex {
	idx := offsetIndex{}
	for _, m := range kafkatest.ReadTopic(h.t, h.brokers, h.inbound, nil) {
		if int(m.Offset) != len(idx[m.Partition]) {
			h.t.Fatalf("partition %d: offset %d after %d records", m.Partition, m.Offset, len(idx[m.Partition]))
		}
		idx[m.Partition] = append(idx[m.Partition], fqdnOf(m.Value))
	}
	return idx
}

// committed returns the group's committed offset of each partition (-1: none).
func (h *sinkHarness) committed(partitions int) map[int]int64 {
	h.t.Helper()
	out, err := h.committedOffsets(partitions)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *sinkHarness) committedOffsets(partitions int) (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kafkatest.ReadCommittedOffsets(ctx, h.brokers, h.group, h.inbound, partitions)
}

// committedAheadOfImports lists the valid records below a committed offset that
// the tenant does not hold. Offsets are read before the imports, and a record
// is imported before its offset is committed, so a correct sink never shows one.
// It does not stop the test, so a watching goroutine may call it.
func (h *sinkHarness) committedAheadOfImports(idx offsetIndex, partitions int) ([]string, error) {
	committed, err := h.committedOffsets(partitions)
	if err != nil {
		return nil, err
	}
	tr, err := h.sim.Truth(tenablesim.TruthAssets, []byte(`{"chunk_size":10000,"filters":{"sources":["`+h.cfg.Source+`"]},"include_records":true}`))
	if err != nil {
		return nil, err
	}
	imported := map[string]bool{}
	for _, f := range fqdnsOf(tr.Records) {
		imported[f] = true
	}
	var ahead []string
	for p, upTo := range committed {
		for off := int64(0); off < upTo && off < int64(len(idx[p])); off++ {
			if fqdn := idx[p][off]; fqdn != "" && !imported[fqdn] {
				ahead = append(ahead, fmt.Sprintf("%d/%d (%s)", p, off, fqdn))
			}
		}
	}
	return ahead, nil
}

// TestSinkKilledMidBatchLosesNothing kills `tvmkafka sink` with SIGKILL while
// import jobs are in flight and batches half full, and starts it again with
// --once: every valid asset is imported at least once, every invalid record is
// dead-lettered, and at no moment was an offset committed ahead of an import.
func TestSinkKilledMidBatchLosesNothing(t *testing.T) {
	const partitions = 3
	h := newSinkHarness(t, partitions, func(c *tenablesim.Config) { c.ImportLatency = 300 * time.Millisecond })
	var values [][]byte
	invalid := map[string]bool{}
	for i := range 900 {
		if i%60 == 7 {
			v := fmt.Sprintf(`{"hostname":["no-identifier-%d"]}`, i)
			invalid[v] = true
			values = append(values, []byte(v))
			continue
		}
		values = append(values, jsonAsset(i, ""))
	}
	h.produce(values...)
	idx := h.indexTopic(func(v []byte) string {
		if invalid[string(v)] {
			return ""
		}
		return string(v[strings.Index(string(v), "host-") : strings.Index(string(v), ".test")+5])
	})

	bin := clitest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Small batches and slow import jobs: at the kill some jobs are complete and
	// committed, some accepted and running, some batches still filling.
	first := exec.CommandContext(ctx, bin, "sink")
	first.Env = h.sinkEnv("TVMKAFKA_SINK_MAX_RECORDS=20", "TVMKAFKA_SINK_PENDING_BATCHES=2")
	var firstLog bytes.Buffer
	first.Stdout, first.Stderr = &firstLog, &firstLog
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}

	// Watch the invariant while the first process runs.
	stopWatch := make(chan struct{})
	var watch sync.WaitGroup
	var violations []string
	var watchErr error
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(50 * time.Millisecond):
			}
			v, err := h.committedAheadOfImports(idx, partitions)
			if err != nil {
				watchErr = err
				return
			}
			violations = append(violations, v...)
		}
	}()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		var sum int64
		for _, c := range h.committed(partitions) {
			sum += max(c, 0)
		}
		if sum > 0 && len(h.sim.Imports()) >= 8 {
			break
		}
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("no offset committed within two minutes; log:\n%s", firstLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	close(stopWatch)
	watch.Wait()
	atKill := h.committed(partitions)
	importsAtKill := len(h.sim.Imports())
	v, err := h.committedAheadOfImports(idx, partitions)
	if err != nil || watchErr != nil {
		t.Fatal(err, watchErr)
	}
	if len(v) > 0 || len(violations) > 0 {
		all := append(violations, v...)
		t.Fatalf("%d times a record was committed ahead of its import, first %v", len(all), all[:min(len(all), 10)])
	}
	var committedAtKill int64
	for _, c := range atKill {
		committedAtKill += max(c, 0)
	}
	if committedAtKill >= int64(len(values)) {
		t.Fatalf("the sink was killed after it had finished (%d committed): the test did not kill it mid-run", committedAtKill)
	}

	second := exec.CommandContext(ctx, bin, "sink", "--once", "--timeout", "3m")
	second.Env = h.sinkEnv()
	restarted := time.Now()
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("restarted sink failed: %v\n%s", err, out)
	}
	t.Logf("the restarted sink caught up in %v", time.Since(restarted).Round(time.Millisecond))
	wantFQDNs := idx.valid()
	if got := distinct(h.importedFQDNs()); !slices.Equal(got, wantFQDNs) {
		t.Errorf("imported %d distinct assets after the restart, want %d", len(got), len(wantFQDNs))
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("offsets not committed to the end after the restart: %v pending", p)
	}
	deadValues := map[string]bool{}
	for _, m := range kafkatest.ReadTopic(t, h.brokers, h.dlq, nil) {
		deadValues[string(m.Value)] = true
		if kafkatest.HeaderMap(m)[sink.HeaderDLQMessage] == "" {
			t.Errorf("dead letter without a reason: %q", m.Value)
		}
	}
	for v := range invalid {
		if !deadValues[v] {
			t.Errorf("invalid record %s is not in the dead-letter topic", v)
		}
	}
	t.Logf("killed with %d of %d records committed and %d import requests made; the restart made %d more",
		committedAtKill, len(values), importsAtKill, len(h.sim.Imports())-importsAtKill)
}
