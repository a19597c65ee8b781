package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// closedAddr is a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestIsUnreachable: the errors kafka-go returns when no broker listens, or a
// broker name does not resolve, are told apart from other failures.
func TestIsUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, broker := range []string{closedAddr(t), "no-such-broker.invalid:9092"} {
		conn := Connection{Brokers: []string{broker}, DialTimeout: 5 * time.Second}
		err := EnsureTopics(ctx, conn, []TopicSpec{{Name: "t", Partitions: 1, ReplicationFactor: 1}}, log)
		if err == nil {
			t.Fatalf("%s: EnsureTopics succeeded without a broker", broker)
		}
		if !IsUnreachable(err) {
			t.Errorf("%s: IsUnreachable(%v) = false", broker, err)
		}
		if !IsUnreachable(fmt.Errorf("wrapped: %w", err)) {
			t.Errorf("%s: a wrapped error is not recognised", broker)
		}
	}
	for _, err := range []error{nil, errors.New("topic authorization failed"), context.Canceled, io.ErrUnexpectedEOF} {
		if IsUnreachable(err) {
			t.Errorf("IsUnreachable(%v) = true", err)
		}
	}
}
