package kafkaio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

// TestFetchErrorMarksOnlyWhatARetryCannotFix: a broker that went away, a
// coordinator that moved or a rebalance pass once Kafka recovers, so the sink
// fetches again; a closed reader or refused credentials never pass.
func TestFetchErrorMarksOnlyWhatARetryCannotFix(t *testing.T) {
	refusedDial := fmt.Errorf("failed to dial: failed to open connection to 127.0.0.1:9092: %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"connection refused", refusedDial, false},
		{"connection lost", io.ErrUnexpectedEOF, false},
		{"coordinator moved", kafka.NotCoordinatorForGroup, false},
		{"coordinator loading", kafka.GroupCoordinatorNotAvailable, false},
		{"rebalance", kafka.RebalanceInProgress, false},
		{"member evicted", kafka.UnknownMemberId, false},
		{"no leader", kafka.LeaderNotAvailable, false},
		{"reader closed", io.EOF, true},
		{"reader closing", io.ErrClosedPipe, true},
		{"topic not allowed", kafka.TopicAuthorizationFailed, true},
		{"group not allowed", fmt.Errorf("join group: %w", kafka.GroupAuthorizationFailed), true},
		{"bad password", kafka.SASLAuthenticationFailed, true},
		{"unsupported mechanism", kafka.UnsupportedSASLMechanism, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fetchError(tc.err)
			var perm *backoff.PermanentError
			if isPerm := errors.As(got, &perm); isPerm != tc.permanent {
				t.Errorf("fetchError(%v) permanent = %v, want %v", tc.err, isPerm, tc.permanent)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("fetchError(%v) = %v: the cause is lost", tc.err, got)
			}
		})
	}
}
