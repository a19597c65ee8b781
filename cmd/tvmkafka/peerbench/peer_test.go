// Package peer compares tvmkafka with the pipeline a team would write in
// Python with Tenable's own client (pyTenable) and confluent-kafka, side by
// side on the same simulator and the same real broker.
package peer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/cmd/tvmkafka/clitest"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// Simulator keys, and the settings every run shares.
const (
	accessKey = "AK"
	secretKey = "SK"
)

// usage is what one process cost.
type usage struct {
	records int64
	wall    time.Duration
	cpu     time.Duration // user + system, of the process and its threads
	rssMB   float64       // peak resident set
}

func (u usage) cpuPerRecord() float64 { return float64(u.cpu.Microseconds()) / float64(u.records) }
func (u usage) rate() float64         { return float64(u.records) / u.wall.Seconds() }

// BenchmarkPeerEndToEnd runs the Python pipeline and tvmkafka alternately on the same
// data (PEER_ROUNDS rounds, default 2) and prints, per workload and side, CPU
// per record, records per second of wall time and peak RSS, and the ratios:
//
//	vulns       pyTenable exports.vulns + confluent-kafka   vs  tvmkafka source --once --streams vulns
//	assets      pyTenable exports.assets (x3) + confluent-kafka vs  tvmkafka source --once --streams assets (active, deleted, terminated)
//	compliance  pyTenable exports.compliance + ...          vs  tvmkafka source --once --streams compliance
//	sink        confluent-kafka + pyTenable asset_import    vs  tvmkafka sink --once
//
// Run it with: make bench-peer. PEER_ASSETS sizes the tenant (default 10,000
// assets: 92,007 medium/high/critical findings), PEER_SINK_ASSETS the inbound
// topic (default 100,000), PEER_WORKLOADS picks workloads (comma-separated).
func BenchmarkPeerEndToEnd(b *testing.B) {
	brokers := kafkatest.NeedsRealBroker(b, "the peer comparison measures the real broker")
	py := kafkatest.Python(b)
	bin := os.Getenv("PEER_TVMKAFKA")
	if bin == "" {
		bin = clitest.Binary(b)
	}
	assets := envInt(b, "PEER_ASSETS", 10_000)
	sinkAssets := envInt(b, "PEER_SINK_ASSETS", 100_000)
	rounds := envInt(b, "PEER_ROUNDS", 2)
	workloads := []string{"vulns", "assets", "compliance", "sink"}
	if w := os.Getenv("PEER_WORKLOADS"); w != "" {
		workloads = strings.Split(w, ",")
	}

	simAddr := clitest.FreeAddr(b)
	sim := exec.Command(bin, "sim", "--listen", simAddr, "--assets", strconv.Itoa(assets), "--seed", "1",
		"--access-key", accessKey, "--secret-key", secretKey, "--queue-latency", "10ms", "--chunk-latency", "1ms",
		"--import-latency", "100ms", "--log-level", "warn")
	sim.Stderr = os.Stderr
	// TVMKAFKA_CPU_PROFILE profiles the tvmkafka runs measured, not the simulator.
	sim.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TVMKAFKA_CPU_PROFILE=") })
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Process.Signal(syscall.SIGTERM); _ = sim.Wait() })
	clitest.WaitHTTP(b, "http://"+simAddr+"/_sim/state")
	url := "http://" + simAddr
	pyEnv := append(os.Environ(), "TIO_URL="+url, "TIO_ACCESS_KEY="+accessKey, "TIO_SECRET_KEY="+secretKey,
		"KAFKA_BROKERS="+strings.Join(brokers, ","), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"PYTHONDONTWRITEBYTECODE=1")
	tvmEnv := append(os.Environ(), "TVMKAFKA_TENABLE_URL="+url, "TVMKAFKA_TENABLE_ACCESS_KEY="+accessKey,
		"TVMKAFKA_TENABLE_SECRET_KEY="+secretKey, "TVMKAFKA_KAFKA_BROKERS="+strings.Join(brokers, ","),
		"TVMKAFKA_TOPIC_CREATE=false", "TVMKAFKA_LOG_LEVEL=warn", "TVMKAFKA_SOURCE_ASSETS_TOMBSTONES=false")

	for b.Loop() {
		out := &strings.Builder{}
		fmt.Fprintf(out, "\n%d assets in the tenant; %d round(s), Python and tvmkafka alternately\n", assets, rounds)
		fmt.Fprintf(out, "%-11s %-8s %9s %12s %12s %10s\n", "workload", "side", "records", "CPU µs/rec", "records/s", "peak RSS")
		for _, w := range workloads {
			var pys, tvms []usage
			for range rounds {
				switch w {
				case "sink":
					topic, n := inboundTopic(b, brokers, sinkAssets)
					pys = append(pys, runProc(b, exec.Command(py, script("py_sink.py"), topic, kafkatest.UniqueName("peer-py"), strconv.Itoa(n)), pyEnv, n))
					cmd := exec.Command(bin, "sink", "--once")
					env := append(slices.Clone(tvmEnv), "TVMKAFKA_TOPIC_INBOUND="+topic,
						"TVMKAFKA_TOPIC_INBOUND_DLQ="+kafkatest.CreateTopic(b, brokers, 1, nil),
						"TVMKAFKA_SINK_GROUP_ID="+kafkatest.UniqueName("peer-tvm"), "TVMKAFKA_SINK_START_OFFSET=earliest")
					tvms = append(tvms, runProc(b, cmd, env, n))
				default:
					stream := map[string]string{"vulns": "vulns", "assets": "assets", "compliance": "compliance"}[w]
					if stream == "" {
						b.Fatalf("unknown workload %q", w)
					}
					topic := kafkatest.CreateTopic(b, brokers, 6, nil)
					u := runProc(b, exec.Command(py, script("py_export.py"), w, topic), pyEnv, -1)
					u.records = topicRecords(b, brokers, topic)
					pys = append(pys, u)

					topic = kafkatest.CreateTopic(b, brokers, 6, nil)
					state := kafkatest.CreateTopic(b, brokers, 1, map[string]string{"cleanup.policy": "compact"})
					index := kafkatest.CreateTopic(b, brokers, 1, map[string]string{"cleanup.policy": "compact"})
					env := append(slices.Clone(tvmEnv), "TVMKAFKA_TOPIC_"+strings.ToUpper(w)+"="+topic, "TVMKAFKA_TOPIC_STATE="+state,
						"TVMKAFKA_TOPIC_FINDING_INDEX="+index)
					u = runProc(b, exec.Command(bin, "source", "--once", "--streams", stream), env, -1)
					u.records = topicRecords(b, brokers, topic)
					tvms = append(tvms, u)
				}
				p, t := pys[len(pys)-1], tvms[len(tvms)-1]
				if p.records != t.records || p.records == 0 {
					b.Fatalf("%s: Python handled %d records, tvmkafka %d: not the same data", w, p.records, t.records)
				}
			}
			for i := range pys {
				row(out, w, "python", pys[i])
				row(out, w, "tvmkafka", tvms[i])
			}
			fmt.Fprintf(out, "%-11s %-8s %9s %12s %12s %10s\n", w, "ratio", "", ratioRange(pys, tvms, usage.cpuPerRecord, false),
				ratioRange(pys, tvms, usage.rate, true), ratioRange(pys, tvms, func(u usage) float64 { return u.rssMB }, false))
		}
		fmt.Fprintln(out, "ratio: Python / tvmkafka for CPU and RSS, tvmkafka / Python for records/s; min–max over the rounds")
		fmt.Print(out.String())
	}
}

func row(out *strings.Builder, w, side string, u usage) {
	fmt.Fprintf(out, "%-11s %-8s %9d %12.2f %12.0f %7.0f MB\n", w, side, u.records, u.cpuPerRecord(), u.rate(), u.rssMB)
}

// ratioRange is the range over the rounds of python/tvmkafka (or the inverse).
func ratioRange(pys, tvms []usage, f func(usage) float64, inverse bool) string {
	var rs []float64
	for i := range pys {
		r := f(pys[i]) / f(tvms[i])
		if inverse {
			r = 1 / r
		}
		rs = append(rs, r)
	}
	lo, hi := slices.Min(rs), slices.Max(rs)
	if fmt.Sprintf("%.1f", lo) == fmt.Sprintf("%.1f", hi) {
		return fmt.Sprintf("%.1fx", lo)
	}
	return fmt.Sprintf("%.1f–%.1fx", lo, hi)
}

// runProc runs cmd to its end and reads its resource usage. records, when not
// negative, is what the run handled.
func runProc(b *testing.B, cmd *exec.Cmd, env []string, records int) usage {
	b.Helper()
	cmd.Env = env
	cmd.Stderr = os.Stderr
	u, err := clitest.Measure(cmd)
	if err != nil {
		b.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return usage{records: int64(records), wall: u.Wall, cpu: u.CPU, rssMB: float64(u.PeakRSS) / (1 << 20)}
}

func script(name string) string {
	p, err := filepath.Abs(name)
	if err != nil {
		panic(err)
	}
	return p
}

func topicRecords(b *testing.B, brokers []string, topic string) int64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int64
	for _, end := range kafkatest.EndOffsets(ctx, b, brokers, topic) {
		n += end
	}
	return n
}

// inboundTopic creates a six-partition topic holding n inbound assets as a
// CMDB would send them, as JSON.
func inboundTopic(b *testing.B, brokers []string, n int) (string, int) {
	b.Helper()
	topic := kafkatest.CreateTopic(b, brokers, 6, map[string]string{"compression.type": "lz4"})
	for start := 0; start < n; start += 10_000 {
		recs := make([]kafkaio.Record, 0, 10_000)
		for i := start; i < min(start+10_000, n); i++ {
			recs = append(recs, kafkaio.Record{Topic: topic, Key: fmt.Appendf(nil, "srv-%06d", i), Value: clitest.CMDBAsset(i)})
		}
		kafkatest.Produce(b, brokers, recs...)
	}
	return topic, n
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
