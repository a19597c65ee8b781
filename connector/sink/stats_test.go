package sink_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/sink"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// wrongKeyImporter answers every import request as Tenable does a wrong API key.
type wrongKeyImporter struct {
	mu    sync.Mutex
	calls int
}

func (r *wrongKeyImporter) ImportAssetsBody(context.Context, []byte) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return "", &tenable.APIError{Method: http.MethodPost, Path: "/import/assets", StatusCode: http.StatusUnauthorized}
}

func (r *wrongKeyImporter) ImportJob(context.Context, string) (tenable.ImportJob, error) {
	panic("no job exists: every import was refused")
}

// TestSinkCountsRefusedRequests: with a wrong key, the sink stops with the
// error and its stats and its last log line count the request it made, not
// only the accepted ones (none).
func TestSinkCountsRefusedRequests(t *testing.T) {
	var logs bytes.Buffer
	imp := &wrongKeyImporter{}
	cfg := sink.DefaultConfig()
	cfg.JobPoll, cfg.Linger = time.Millisecond, time.Millisecond
	s, err := sink.New(sink.Options{Config: cfg, Topic: "inbound", DeadLetterTopic: "dlq",
		Consumer: newFakeConsumer(fakeRecord(0, 0, `{"fqdn":["a.example.com"]}`)), Importer: imp,
		Decoder: sink.NewDecoder(nil), DeadLetters: &heldPublisher{}, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		DrainTimeout: time.Second, Clock: immediateClock{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Run(ctx, map[int]int64{0: 1}); err == nil {
		t.Fatal("the sink succeeded although Tenable refused every request")
	}
	imp.mu.Lock()
	calls := imp.calls
	imp.mu.Unlock()
	st := s.Stats()
	if calls == 0 || st.RequestsSent != calls || st.Requests != 0 {
		t.Errorf("importer called %d times; stats: %d requests sent, %d accepted", calls, st.RequestsSent, st.Requests)
	}
	var stopped string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="sink stopped"`) {
			stopped = line
		}
	}
	if !strings.Contains(stopped, "requests_sent="+strconv.Itoa(calls)) || !strings.Contains(stopped, "requests_accepted=0") {
		t.Errorf("the sink's last line does not count the refused request:\n%s", logs.String())
	}
}
