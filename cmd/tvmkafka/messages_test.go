package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, got, want)
	}
}

// closedPort is a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestCommonMistakesAreExplained: the mistakes new users make get a message
// that names the variable or flag and says what is expected, pinned by golden
// files in testdata/errors.
func TestCommonMistakesAreExplained(t *testing.T) {
	broker := closedPort(t)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"url-without-scheme", map[string]string{"TVMKAFKA_TENABLE_URL": "127.0.0.1:31500"}, []string{"source", "--once"}},
		{"url-host-port", map[string]string{"TVMKAFKA_TENABLE_URL": "localhost:31500"}, []string{"sink", "--once"}},
		{"bad-duration", map[string]string{"TVMKAFKA_SOURCE_OVERLAP": "1hour"}, []string{"source", "--once"}},
		{"bad-int-bool-list", map[string]string{"TVMKAFKA_TOPIC_PARTITIONS": "six", "TVMKAFKA_TOPIC_CREATE": "yes",
			"TVMKAFKA_RUN_VULNS_INTERVAL": "daily"}, []string{"run"}},
		{"misspelt-and-bad", map[string]string{"TVMKAFKA_KAFKA_BROKER": "x:1", "TVMKAFKA_SOURCE_OVERLAP": "1hour"}, []string{"source", "--once"}},
		{"kafka-unreachable", map[string]string{"TVMKAFKA_KAFKA_BROKERS": broker}, []string{"source", "--once"}},
		{"unknown-flag", nil, []string{"source", "--onc"}},
		{"unknown-flag-value", nil, []string{"sink", "--timout=3s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withKeys(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := runCLI(t, tt.args...)
			if err == nil {
				t.Fatal("the mistake was accepted")
			}
			// The broker's port changes from run to run.
			golden(t, "errors/"+tt.name+".golden", strings.ReplaceAll(err.Error(), broker, "127.0.0.1:PORT")+"\n")
		})
	}
}

// TestUnknownVariablesAreWarned: a misspelt TVMKAFKA_ variable is warned
// about at start, with the variable meant.
func TestUnknownVariablesAreWarned(t *testing.T) {
	withKeys(t)
	t.Setenv("TVMKAFKA_KAFKA_BROKER", "kafka:9092")
	t.Setenv("TVMKAFKA_SIM_ACCESS_KEY", "read by tvmkafka sim")
	var out bytes.Buffer
	if _, _, err := loadConfigAndLogger(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "TVMKAFKA_KAFKA_BROKER is not a setting of this program and is ignored; did you mean TVMKAFKA_KAFKA_BROKERS?") {
		t.Errorf("no warning:\n%s", out.String())
	}
	if strings.Count(out.String(), "level=WARN") != 1 {
		t.Errorf("want one warning:\n%s", out.String())
	}
}

// TestSignalIsLogged: the signal that stops a command is logged once, and an
// end for another reason (a --timeout) is not taken for one.
func TestSignalIsLogged(t *testing.T) {
	var out syncBuffer // written by the AfterFunc goroutine
	log := slog.New(slog.NewTextHandler(&out, nil))
	ctx, cancel := context.WithCancelCause(context.Background())
	child, cancelChild := context.WithTimeout(ctx, time.Minute)
	defer cancelChild()
	stop := logOnSignal(child, log, "stopping")
	defer stop()
	cancel(signalCause{"SIGTERM"})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "SIGTERM received: stopping") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Count(out.String(), "SIGTERM received") != 1 {
		t.Errorf("want one line about the signal:\n%s", out.String())
	}

	var quiet syncBuffer
	log = slog.New(slog.NewTextHandler(&quiet, nil))
	timeout, cancelTimeout := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelTimeout()
	stop2 := logOnSignal(timeout, log, "stopping")
	<-timeout.Done()
	time.Sleep(50 * time.Millisecond)
	stop2()
	if quiet.String() != "" {
		t.Errorf("a timeout was logged as a signal:\n%s", quiet.String())
	}
}

// TestSignalContextEndsOnSIGTERM: SIGTERM ends the root context with a cause
// that names it.
func TestSignalContextEndsOnSIGTERM(t *testing.T) {
	ctx, stop := signalContext()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not end the context")
	}
	var sc signalCause
	if !errors.As(context.Cause(ctx), &sc) || sc.name != "SIGTERM" {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}

// TestEchoLoopWarningOnlyWhenAssetsRun: the warning about imports coming back
// in asset exports is given only when the asset stream runs beside the sink.
func TestEchoLoopWarningOnlyWhenAssetsRun(t *testing.T) {
	cfg := defaultConfig()
	for _, tt := range []struct {
		streams []string
		exclude []string
		warn    bool
	}{
		{[]string{source.StreamAssets, source.StreamVulns}, nil, true},
		{[]string{source.StreamVulns, source.StreamPlugins}, nil, false},
		{[]string{source.StreamAssets}, []string{cfg.Sink.Source}, false},
	} {
		var out bytes.Buffer
		c := cfg
		c.Source.AssetsExcludeSources = tt.exclude
		warnEchoLoop(slog.New(slog.NewTextHandler(&out, nil)), c, tt.streams)
		if got := strings.Contains(out.String(), "come back in asset exports"); got != tt.warn {
			t.Errorf("streams %v, excluded %v: warned %v, want %v", tt.streams, tt.exclude, got, tt.warn)
		}
	}
}

// TestSourceCreatesTheInboundTopics: source and run create the inbound topic
// and its dead-letter topic too, so assets can be produced before a sink ran.
func TestSourceCreatesTheInboundTopics(t *testing.T) {
	cfg := defaultConfig()
	for _, r := range []roles{{source: true}, {sink: true}, {source: true, sink: true}} {
		var names []string
		for _, s := range r.topicSpecs(cfg) {
			names = append(names, s.Name)
		}
		for _, want := range []string{cfg.Topic.Inbound, cfg.Topic.InboundDLQ, cfg.Topic.State, cfg.Topic.SourceDLQ, cfg.Streams.Topic[source.StreamVulns]} {
			if !slices.Contains(names, want) {
				t.Errorf("roles %+v create %v, not %s", r, names, want)
			}
		}
	}
}
