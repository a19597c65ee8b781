package kafkatest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// RestartablePartitions is the partition count of the topics a restartable
// broker is created with.
const RestartablePartitions = 3

// RestartableBroker is a Kafka broker of one test, on a fixed port, whose data
// lives on disk: Stop takes it away (its port refuses connections) and Start
// brings it back with every record, topic and committed offset it had, so a
// test sees what a client sees of a broker restart. It is stopped for good
// when the test ends.
type RestartableBroker struct {
	tb   testing.TB
	addr string

	mu    sync.Mutex
	up    bool
	start func() error
	stop  func() error
}

// Addr is the broker's address, host:port; it stays the same across restarts.
func (b *RestartableBroker) Addr() string { return b.addr }

// Brokers is Addr as a bootstrap list.
func (b *RestartableBroker) Brokers() []string { return []string{b.addr} }

// Stop takes the broker away, keeping its data. Stopping a stopped broker does
// nothing. It may be called from any goroutine: a failure marks the test
// failed without ending it.
func (b *RestartableBroker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.up {
		return
	}
	b.up = false
	if err := b.stop(); err != nil {
		b.tb.Errorf("stop the broker at %s: %v", b.addr, err)
	}
}

// Start brings a stopped broker back with its data and returns once it
// accepts clients and leads the partitions of its topics. Starting a running broker does nothing. Call it from the
// test's goroutine: a failure ends the test.
func (b *RestartableBroker) Start() {
	b.tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.up {
		return
	}
	if err := b.start(); err != nil {
		b.tb.Fatalf("start the broker at %s: %v", b.addr, err)
	}
	b.up = true
}

// NewRestartableBroker starts an in-process broker (kfake, with its data in
// a directory of the test) holding topics, each with RestartablePartitions
// partitions.
func NewRestartableBroker(tb testing.TB, topics ...string) *RestartableBroker {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: unit tests only, no Kafka")
	}
	port := freePort(tb, 0)
	dir := tb.TempDir()
	var cluster *kfake.Cluster
	open := func(opts ...kfake.Opt) error {
		c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir)}, opts...)...)
		if err != nil {
			return err
		}
		cluster = c
		return nil
	}
	b := &RestartableBroker{tb: tb, addr: "127.0.0.1:" + strconv.Itoa(port),
		start: func() error { return open() },
		stop: func() error {
			cluster.Close()
			cluster = nil
			return nil
		}}
	if err := open(kfake.SeedTopics(RestartablePartitions, topics...)); err != nil {
		tb.Fatalf("start an in-process broker on port %d: %v", port, err)
	}
	b.up = true
	tb.Cleanup(b.Stop)
	return b
}

// NewRestartableKafka starts a real Apache Kafka broker of the test's own with
// deploy/kafka-local/kafka.sh on free ports, holding topics, each with
// RestartablePartitions partitions; Stop and Start stop the Java process and
// start it again on the same storage. It runs only where the real broker
// does: KAFKA_BROKERS set (it is skipped otherwise), and the broker jars
// fetched (`make kafka-jars`) into KAFKA_CACHE_DIR or the repository's
// .cache/kafka. The shared broker of KAFKA_BROKERS is left alone.
func NewRestartableKafka(tb testing.TB, topics ...string) *RestartableBroker {
	tb.Helper()
	NeedsRealBroker(tb, "starts and stops an Apache Kafka broker of its own")
	script, libs, err := kafkaLocal()
	if err != nil {
		tb.Skipf("cannot start a second Apache Kafka broker: %v", err)
	}
	// Jars are linked, not copied: the broker's cache is the test's own, so its
	// data and logs go away with the test.
	version := kafkaVersion()
	cache := tb.TempDir()
	if err := os.MkdirAll(filepath.Join(cache, version), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(libs, filepath.Join(cache, version, "libs")); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb, 1) // kafka.sh puts the controller on the next port
	run := func(verb string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", script, verb)
		cmd.Env = append(os.Environ(), "KAFKA_PORT="+strconv.Itoa(port), "KAFKA_CACHE_DIR="+cache,
			"KAFKA_VERSION="+version, "KAFKA_HEAP=256m")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kafka.sh %s: %w\n%s", verb, err, out.Bytes())
		}
		return nil
	}
	b := &RestartableBroker{tb: tb, addr: "127.0.0.1:" + strconv.Itoa(port), stop: func() error { return run("stop") }}
	b.start = func() error {
		if err := run("start"); err != nil {
			return err
		}
		// The broker accepts clients before it leads its partitions again.
		return waitTopics(b.Brokers(), RestartablePartitions, topics...)
	}
	// Registered first, so it runs last: after Stop, remove the storage too.
	tb.Cleanup(func() {
		if err := run("down"); err != nil {
			tb.Errorf("remove the broker at %s: %v", b.addr, err)
		}
	})
	started := time.Now()
	if err := run("up"); err != nil {
		tb.Fatalf("start a second Apache Kafka broker: %v", err)
	}
	b.up = true
	tb.Cleanup(b.Stop)
	tb.Logf("Apache Kafka broker of the test's own at %s, up in %v", b.addr, time.Since(started).Round(100*time.Millisecond))
	if err := createTopics(b.Brokers(), RestartablePartitions, topics...); err != nil {
		tb.Fatal(err)
	}
	return b
}

// createTopics creates topics and waits until every partition answers.
func createTopics(brokers []string, partitions int, topics ...string) error {
	if len(topics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	var cfgs []kafka.TopicConfig
	for _, t := range topics {
		cfgs = append(cfgs, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
	}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: cfgs})
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range topics {
		if err := resp.Errors[t]; err != nil {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return waitTopics(brokers, partitions, topics...)
}

// waitTopics waits until every partition of topics has a leader that answers.
func waitTopics(brokers []string, partitions int, topics ...string) error {
	for _, t := range topics {
		deadline := time.Now().Add(time.Minute)
		for {
			err := topicReady(brokers, t, partitions)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("topic %s not ready: %w", t, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// kafkaLocal finds deploy/kafka-local/kafka.sh of this repository and the
// broker jars it fetched.
func kafkaLocal() (script, libs string, err error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", "", fmt.Errorf("no source path for the repository")
	}
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	script = filepath.Join(repo, "deploy", "kafka-local", "kafka.sh")
	if _, err := os.Stat(script); err != nil {
		return "", "", err
	}
	cache := os.Getenv("KAFKA_CACHE_DIR")
	if cache == "" {
		cache = filepath.Join(repo, ".cache", "kafka")
	}
	libs, err = filepath.Abs(filepath.Join(cache, kafkaVersion(), "libs"))
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(filepath.Join(libs, ".complete")); err != nil {
		return "", "", fmt.Errorf("broker jars not fetched into %s (make kafka-jars): %w", libs, err)
	}
	return script, libs, nil
}

func kafkaVersion() string {
	if v := os.Getenv("KAFKA_VERSION"); v != "" {
		return v
	}
	return "4.1.2"
}

// freePort returns a loopback port nobody listens on, whose next `extra`
// ports are free too, below the kernel's ephemeral range: a restartable
// broker's port stays unbound while the broker is stopped, and a port of that
// range could meanwhile become the local port of some client's connection,
// so the broker could not bind it again ("Address already in use").
func freePort(tb testing.TB, extra int) int {
	tb.Helper()
	low, high := 20000, ephemeralLow()
	for range 200 {
		port := low + rand.IntN(high-low-extra-1)
		free := true
		for i := 0; i <= extra && free; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+i))
			if err != nil {
				free = false
				continue
			}
			_ = l.Close()
		}
		if free {
			return port
		}
	}
	tb.Fatal("no free loopback port")
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768, its default, where it cannot be read).
func ephemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return fallback
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 21000 {
		return fallback
	}
	return n
}
