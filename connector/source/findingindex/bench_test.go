package findingindex

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// Environment of the rebuild child process.
const (
	envRebuildTopic   = "FINDINGINDEX_REBUILD_TOPIC"
	envRebuildBrokers = "FINDINGINDEX_REBUILD_BROKERS"
)

// rebuildReport is what the child process measured.
type rebuildReport struct {
	Elapsed   time.Duration `json:"elapsed"`
	Assets    int           `json:"assets"`
	Open      int           `json:"open"`
	HeapBytes uint64        `json:"heap_bytes"` // live heap after a GC, index loaded
	MaxRSSKiB int64         `json:"max_rss_kib"`
}

// TestMain runs the process BenchmarkRebuild10MEndToEnd measures when the
// benchmark starts this test binary again with the rebuild's topic set, and
// the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(envRebuildTopic) != "" {
		if err := rebuildChild(); err != nil {
			fmt.Fprintln(os.Stderr, "rebuild:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// rebuildChild rebuilds the index from the topic and reports time and memory
// on stdout.
func rebuildChild() error {
	topic := os.Getenv(envRebuildTopic)
	conn := kafkaio.Connection{Brokers: strings.Split(os.Getenv(envRebuildBrokers), ",")}
	x := New(NewKafkaLog(conn, topic, nil))
	start := time.Now()
	if err := x.Load(context.Background()); err != nil {
		return err
	}
	rep := rebuildReport{Elapsed: time.Since(start)}
	st := x.Stats()
	rep.Assets, rep.Open = st.Assets, st.OpenFindings
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapBytes = ms.HeapAlloc
	rep.MaxRSSKiB = clitest.OwnPeakRSS() >> 10
	runtime.KeepAlive(x)
	out, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Printf("REBUILD %s\n", out)
	return nil
}

// BenchmarkRebuild10MEndToEnd writes an index of 10 million open findings (200,000
// assets with 40 open vulnerabilities and 10 open compliance findings each) to
// a topic, then rebuilds it in a process of its own and reports its rebuild
// time, peak RSS and live heap per finding. Run it against the real broker:
//
//	KAFKA_BROKERS=127.0.0.1:19092 go test ./connector/source/findingindex -run '^$' -bench Rebuild10M -benchtime 1x
func BenchmarkRebuild10MEndToEnd(b *testing.B) {
	const assets, vulns, checks = 200_000, 40, 10
	brokers := kafkatest.Brokers(b)
	topic := kafkatest.CreateTopic(b, brokers, 1, map[string]string{"cleanup.policy": "compact"})
	pcfg := kafkaio.DefaultProducerConfig()
	pcfg.Connection.Brokers, pcfg.Logger = brokers, slog.New(slog.NewTextHandler(io.Discard, nil))
	pub, err := kafkaio.NewProducer(pcfg)
	if err != nil {
		b.Fatal(err)
	}
	log := NewKafkaLog(pcfg.Connection, topic, pub)
	ctx := context.Background()
	checkIDs := make([]string, 500)
	for i := range checkIDs {
		checkIDs[i] = fmt.Sprintf("%064x", i*7919+1)
	}
	written := 0
	var batch []kafkaio.Record
	for a := range assets {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", a, a*31)
		v := Value{Kind: KindVulns}
		for i := range vulns {
			v.Vulns = append(v.Vulns, Vuln{Plugin: uint32(10000 + (a*131+i*977)%190000), Port: uint16([]int{0, 22, 80, 443, 445, 3389}[i%6]),
				Protocol: []string{"TCP", "UDP"}[i%5/4]})
		}
		c := Value{Kind: KindCompliance}
		for i := range checks {
			c.Checks = append(c.Checks, checkIDs[(a+i*37)%len(checkIDs)])
		}
		batch = append(batch, kafkaio.Record{Key: Key(KindVulns, id), Value: Encode(v)}, kafkaio.Record{Key: Key(KindCompliance, id), Value: Encode(c)})
		if len(batch) >= 4000 || a == assets-1 {
			if err := log.Write(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			for _, r := range batch {
				written += len(r.Value)
			}
			batch = batch[:0]
		}
	}
	_ = pub.Close()
	b.Logf("wrote %d MB of index values for %d open findings", written>>20, assets*(vulns+checks))

	for b.Loop() {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), envRebuildTopic+"="+topic, envRebuildBrokers+"="+strings.Join(brokers, ","))
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("rebuild: %v\n%s", err, out)
		}
		_, line, ok := strings.Cut(string(out), "REBUILD ")
		if !ok {
			b.Fatalf("no report:\n%s", out)
		}
		var rep rebuildReport
		if err := json.Unmarshal([]byte(strings.SplitN(line, "\n", 2)[0]), &rep); err != nil {
			b.Fatal(err)
		}
		if rep.Open != assets*(vulns+checks) || rep.Assets != assets {
			b.Fatalf("rebuilt %d assets and %d open findings, want %d and %d", rep.Assets, rep.Open, assets, assets*(vulns+checks))
		}
		b.ReportMetric(rep.Elapsed.Seconds(), "rebuild-s")
		b.ReportMetric(float64(rep.MaxRSSKiB)/1024, "peak-RSS-MB")
		b.ReportMetric(float64(rep.HeapBytes)/float64(rep.Open), "heap-B/finding")
	}
}
