package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeExportsInstrumentsCreatedBeforehand: instruments made at package init,
// before Serve installs the provider, still reach /metrics.
func TestServeExportsInstrumentsCreatedBeforehand(t *testing.T) {
	early := Counter("tvmkafka.test.records", "records seen by the test", "{record}")
	srv, err := Serve(Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	early.Add(context.Background(), 42, metric.WithAttributes(attribute.String("stream", "vulns")))
	Histogram("tvmkafka.test.bytes", "bytes", "By", 10, 100).Record(context.Background(), 50)

	code, body := get(t, "http://"+srv.Addr()+"/metrics")
	if code != 200 || !strings.Contains(body, `tvmkafka_test_records_total{`) || !strings.Contains(body, `stream="vulns"`) || !strings.Contains(body, "} 42") {
		t.Fatalf("metrics %d:\n%s", code, body)
	}
	if !strings.Contains(body, "tvmkafka_test_bytes_bucket") {
		t.Errorf("histogram missing:\n%s", body)
	}
	if code, body := get(t, "http://"+srv.Addr()+"/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, _ := get(t, "http://"+srv.Addr()+"/readyz"); code != 503 {
		t.Errorf("readyz before ready %d, want 503", code)
	}
	srv.SetReady(true)
	if code, _ := get(t, "http://"+srv.Addr()+"/readyz"); code != 200 {
		t.Errorf("readyz when ready %d", code)
	}
}
