package kafkatest

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortBelowTheEphemeralRange: a restartable broker's port is chosen
// below the ephemeral range, so no client connection can take it as its local
// port while the broker is stopped; it and the ports asked for after it are
// free.
func TestFreePortBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		port := freePort(t, 1)
		if port+1 >= low {
			t.Fatalf("port %d (and the next) reach the ephemeral range starting at %d", port, low)
		}
		for i := range 2 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+i))
			if err != nil {
				t.Fatalf("port %d is not free: %v", port+i, err)
			}
			_ = l.Close()
		}
	}
}
