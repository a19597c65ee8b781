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

	"github.com/tvmkafka/tvmkafka/pipeline/settings"
)

// Connection says how to reach the Kafka cluster. The tags declare each
// setting's environment variable (relative to its prefix, TVMKAFKA_KAFKA_ in
// the binary), default and description.
type Connection struct {
	// Brokers are bootstrap addresses, host:port.
	Brokers []string `envconfig:"BROKERS" default:"localhost:9092" desc:"bootstrap brokers, comma-separated host:port"`
	// ClientID names this client in broker logs and quotas.
	ClientID string `envconfig:"CLIENT_ID" default:"tvmkafka" desc:"client ID shown in broker logs and quotas"`
	// TLS enables TLS; CAFile (PEM) replaces the system roots when set;
	// CertFile/KeyFile add a client certificate.
	TLS                bool   `envconfig:"TLS" default:"false" desc:"connect with TLS"`
	TLSCAFile          string `envconfig:"TLS_CA_FILE" desc:"PEM CA bundle replacing the system roots"`
	TLSCertFile        string `envconfig:"TLS_CERT_FILE" desc:"PEM client certificate"`
	TLSKeyFile         string `envconfig:"TLS_KEY_FILE" desc:"PEM client key"`
	InsecureSkipVerify bool   `envconfig:"TLS_INSECURE_SKIP_VERIFY" default:"false" desc:"skip server certificate checks (test clusters only)"`
	// SASLMechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	SASLMechanism string `envconfig:"SASL_MECHANISM" desc:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"`
	SASLUsername  string `envconfig:"SASL_USERNAME" desc:"SASL user"`
	SASLPassword  string `envconfig:"SASL_PASSWORD" desc:"SASL password (never logged)"`
	// DialTimeout bounds connection set-up, TLS and SASL included. It is not
	// an environment setting; zero reads 10s.
	DialTimeout time.Duration `ignored:"true"`
}

// Validate reports every problem with the connection settings.
func (c Connection) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, settings.Invalid("BROKERS", "is empty: no Kafka brokers configured"))
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, settings.Invalid("BROKERS", "%q: a broker needs a port (host:port)", b))
		}
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASLUsername == "" || c.SASLPassword == "" {
			errs = append(errs, settings.Invalid("SASL_MECHANISM", "%s needs a username and a password", c.SASLMechanism))
		}
	default:
		errs = append(errs, settings.Invalid("SASL_MECHANISM", "%q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, settings.Invalid("TLS_CERT_FILE", "and TLS_KEY_FILE must be set together: a TLS client certificate needs both"))
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
