package kafkaio

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultProducerConfigIsValid(t *testing.T) {
	c := DefaultProducerConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Compression != "lz4" || c.BatchSize != 1000 || c.BatchBytes != 1<<20 || c.BatchTimeout != 20*time.Millisecond ||
		c.MaxInFlightBytes != 16<<20 || c.MaxAttempts != 10 || c.WriteTimeout != 30*time.Second ||
		len(c.Brokers) != 1 || c.Brokers[0] != "localhost:9092" || c.ClientID != "tvmkafka" {
		t.Fatalf("DefaultProducerConfig() = %+v", c)
	}
}

func TestProducerConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*ProducerConfig)
		want   string
	}{
		{"no brokers", func(c *ProducerConfig) { c.Brokers = nil }, "BROKERS is empty"},
		{"broker without port", func(c *ProducerConfig) { c.Brokers = []string{"kafka"} }, "needs a port"},
		{"bad compression", func(c *ProducerConfig) { c.Compression = "brotli" }, `COMPRESSION "brotli" is not none`},
		{"sasl without password", func(c *ProducerConfig) { c.SASLMechanism, c.SASLUsername = "PLAIN", "u" }, "needs a username and a password"},
		{"unknown sasl", func(c *ProducerConfig) { c.SASLMechanism = "GSSAPI" }, "is not PLAIN"},
		{"cert without key", func(c *ProducerConfig) { c.TLSCertFile = "c.pem" }, "TLS_CERT_FILE and TLS_KEY_FILE"},
		{"bound below batch", func(c *ProducerConfig) { c.MaxInFlightBytes, c.BatchBytes = 10, 100 }, "MAX_IN_FLIGHT_BYTES must be at least one batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultProducerConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestProducerZeroIsRefused: zero is meaningless for every producer setting
// (kafka-go would substitute its own default), so it is refused by name
// rather than silently replaced.
func TestProducerZeroIsRefused(t *testing.T) {
	for _, tt := range []struct {
		key  string
		zero func(*ProducerConfig)
	}{
		{"BATCH_SIZE", func(c *ProducerConfig) { c.BatchSize = 0 }},
		{"BATCH_BYTES", func(c *ProducerConfig) { c.BatchBytes = 0 }},
		{"BATCH_TIMEOUT", func(c *ProducerConfig) { c.BatchTimeout = 0 }},
		{"MAX_ATTEMPTS", func(c *ProducerConfig) { c.MaxAttempts = 0 }},
		{"WRITE_TIMEOUT", func(c *ProducerConfig) { c.WriteTimeout = 0 }},
	} {
		t.Run(tt.key, func(t *testing.T) {
			cfg := DefaultProducerConfig()
			tt.zero(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.key+" must be positive, got 0") {
				t.Fatalf("%s=0: got %v", tt.key, err)
			}
			if _, err := NewProducer(cfg); err == nil {
				t.Fatalf("NewProducer accepted %s=0", tt.key)
			}
		})
	}
}
