package source_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// BenchmarkVulnsEndToEnd exports vulnerability findings from the simulator (its
// own process) into the real broker with `tvmkafka source --once --streams vulns`
// (its own process), as an operator would run it, and reports:
//
//	records/s        findings acknowledged by Kafka per second of the connector's wall time
//	cpu-us/record    the connector's user+system CPU per finding
//	peak-RSS-MB      the connector's peak resident memory
//
// Run it with: make bench-e2e (or go test ./connector/source -run '^$' -bench VulnsEndToEnd -benchtime 1x).
// The tenant sizes give about 100,000 and 1,000,000 findings (all severities).
func BenchmarkVulnsEndToEnd(b *testing.B) {
	for _, size := range []struct {
		name   string
		assets int
	}{{"findings=100k", 2560}, {"findings=1M", 25600}} {
		b.Run(size.name, func(b *testing.B) {
			brokers := kafkatest.Brokers(b)
			bin := clitest.Binary(b)
			simAddr := clitest.FreeAddr(b)
			sim := exec.Command(bin, "sim", "--listen", simAddr, "--assets", fmt.Sprint(size.assets), "--seed", "1",
				"--access-key", "AK", "--secret-key", "SK", "--queue-latency", "10ms", "--chunk-latency", "1ms", "--log-level", "warn")
			sim.Stderr = os.Stderr
			if err := sim.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = sim.Process.Signal(syscall.SIGTERM); _ = sim.Wait() })
			clitest.WaitHTTP(b, "http://"+simAddr+"/_sim/state")
			for b.Loop() {
				topic := kafkatest.CreateTopic(b, brokers, 6, nil)
				state := kafkatest.CreateTopic(b, brokers, 1, map[string]string{"cleanup.policy": "compact"})
				index := kafkatest.CreateTopic(b, brokers, 1, map[string]string{"cleanup.policy": "compact"})
				cmd := exec.Command(bin, "source", "--once", "--streams", "vulns")
				cmd.Env = append(os.Environ(),
					"TVMKAFKA_TENABLE_URL=http://"+simAddr, "TVMKAFKA_TENABLE_ACCESS_KEY=AK", "TVMKAFKA_TENABLE_SECRET_KEY=SK",
					"TVMKAFKA_KAFKA_BROKERS="+strings.Join(brokers, ","), "TVMKAFKA_TOPIC_CREATE=false",
					"TVMKAFKA_TOPIC_VULNS="+topic, "TVMKAFKA_TOPIC_STATE="+state, "TVMKAFKA_TOPIC_FINDING_INDEX="+index,
					"TVMKAFKA_SOURCE_VULNS_SEVERITY=info,low,medium,high,critical", "TVMKAFKA_SOURCE_VULNS_NUM_ASSETS=500",
					"TVMKAFKA_SOURCE_POLL_INITIAL=100ms", "TVMKAFKA_SOURCE_POLL_MAX=500ms", "TVMKAFKA_LOG_LEVEL=warn",
				)
				cmd.Stderr = os.Stderr
				use, err := clitest.Measure(cmd)
				if err != nil {
					b.Fatalf("connector: %v", err)
				}
				wall, cpu := use.Wall, use.CPU
				records := int64(0)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				ends := kafkatest.EndOffsets(ctx, b, brokers, topic)
				cancel()
				for _, end := range ends {
					records += end
				}
				if records < int64(size.assets)*20 {
					b.Fatalf("only %d findings reached Kafka", records)
				}
				b.ReportMetric(float64(records)/wall.Seconds(), "records/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(records), "cpu-us/record")
				b.ReportMetric(float64(use.PeakRSS)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(records), "records")
			}
		})
	}
}
