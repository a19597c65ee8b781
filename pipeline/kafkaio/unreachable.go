package kafkaio

import (
	"errors"
	"net"
	"syscall"
)

// IsUnreachable tells whether err comes from failing to reach a broker at
// all: a refused or timed-out connection, or a broker name that does not
// resolve. Commands use it to say that Kafka is not there, rather than
// showing the client's message for the request that happened to go first.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}
