// Package kafkaio is tvmkafka's one door to Apache Kafka: connection settings,
// its own Record and Header types, an acks=all producer that tells a caller when
// every record of a group (one Tenable chunk) is acknowledged, a consumer-group
// reader with explicit commits, topic administration, and scans of a topic
// without a group (the state store, the demo). It is the only package besides
// test support that imports segmentio/kafka-go; the stages depend on small
// interfaces of their own that these types satisfy.
package kafkaio

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Connection says how to reach the Kafka cluster.
type Connection struct {
	// Brokers are bootstrap addresses, host:port.
	Brokers []string
	// ClientID names this client in broker logs and quotas.
	ClientID string
	// TLS enables TLS; CAFile (PEM) replaces the system roots when set;
	// CertFile/KeyFile add a client certificate.
	TLS                bool
	TLSCAFile          string
	TLSCertFile        string
	TLSKeyFile         string
	InsecureSkipVerify bool
	// SASLMechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	SASLMechanism string
	SASLUsername  string
	SASLPassword  string
	// DialTimeout bounds connection set-up, TLS and SASL included (default 10s).
	DialTimeout time.Duration
}

// Validate reports every problem with the connection settings.
func (c Connection) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers configured"))
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("broker %q needs a port (host:port)", b))
		}
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASLUsername == "" || c.SASLPassword == "" {
			errs = append(errs, fmt.Errorf("SASL %s needs a username and a password", c.SASLMechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("SASL mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("a TLS client certificate needs both a cert file and a key file"))
	}
	return errors.Join(errs...)
}

func (c Connection) dialTimeout() time.Duration {
	if c.DialTimeout > 0 {
		return c.DialTimeout
	}
	return 10 * time.Second
}

func (c Connection) tlsConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in for test clusters
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read Kafka CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the Kafka CA file %s holds no PEM certificate", c.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load Kafka client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (c Connection) saslMechanism() (sasl.Mechanism, error) {
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: c.SASLUsername, Password: c.SASLPassword}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, c.SASLUsername, c.SASLPassword)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, c.SASLUsername, c.SASLPassword)
	}
	return nil, fmt.Errorf("unsupported SASL mechanism %q", c.SASLMechanism)
}

// transport builds the kafka-go transport for writers and admin clients.
func (c Connection) transport() (*kafka.Transport, error) {
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	mech, err := c.saslMechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{
		DialTimeout: c.dialTimeout(),
		ClientID:    c.ClientID,
		TLS:         tlsCfg,
		SASL:        mech,
		MetadataTTL: 30 * time.Second,
	}, nil
}

// dialer builds the kafka-go dialer for readers.
func (c Connection) dialer() (*kafka.Dialer, error) {
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	mech, err := c.saslMechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		Timeout:       c.dialTimeout(),
		DualStack:     true,
		ClientID:      c.ClientID,
		TLS:           tlsCfg,
		SASLMechanism: mech,
	}, nil
}

// client returns an admin/metadata client for the cluster.
func (c Connection) client() (*kafka.Client, error) {
	t, err := c.transport()
	if err != nil {
		return nil, err
	}
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 30 * time.Second, Transport: t}, nil
}
