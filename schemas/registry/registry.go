// Package registry talks to a Confluent Schema Registry (or a compatible one) for
// the connector: sources register their value schemas on start and frame
// records with the returned IDs (schemas.AppendConfluent); the sink resolves the
// IDs it reads back to schemas.
//
// It wraps hamba/avro's registry client, which does the HTTP (content type
// application/vnd.schemaregistry.v1+json, basic auth) and caches schemas by ID;
// this package adds caching of registrations and matches fetched schemas to the
// embedded ones by their canonical fingerprint.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	hamba "github.com/hamba/avro/v2/registry"

	"github.com/tvmkafka/tvmkafka/schemas"
)

// Client is what the connector needs from a schema registry.
type Client interface {
	// Register registers s under subject (see ValueSubject) and returns the
	// schema ID. Registering a schema the subject already has returns its ID.
	Register(ctx context.Context, subject string, s *schemas.Schema) (int, error)
	// SchemaByID returns the schema registered under id.
	SchemaByID(ctx context.Context, id int) (*Registered, error)
}

// Registered is a schema as the registry knows it.
type Registered struct {
	ID int
	// Canonical is the schema's Parsing Canonical Form and Fingerprint its
	// CRC-64-AVRO fingerprint (as in single-object encoding).
	Canonical   string
	Fingerprint uint64
	// Known is the embedded schema (current or released) with the same
	// fingerprint, or nil when the registry holds a schema this build does not.
	Known *schemas.Schema
}

// ValueSubject is the subject of a topic's record values under the registry's
// default TopicNameStrategy.
func ValueSubject(topic string) string { return topic + "-value" }

// Error is an error response of the registry.
type Error struct {
	StatusCode int    // HTTP status
	Code       int    // registry error code, e.g. 40403 (schema not found)
	Message    string // registry message
}

// Error describes the response.
func (e *Error) Error() string {
	return fmt.Sprintf("schema registry: HTTP %d (error code %d): %s", e.StatusCode, e.Code, e.Message)
}

// Config configures an HTTPClient.
type Config struct {
	// URL of the registry, e.g. http://localhost:8081.
	URL string
	// Username and Password, when set, are sent with HTTP basic auth
	// (Confluent Cloud: API key and secret).
	Username string
	Password string
	// HTTPClient to use; nil means one with Timeout.
	HTTPClient *http.Client
	// Timeout of each request when HTTPClient is nil; zero means 30s.
	Timeout time.Duration
}

// HTTPClient is a Client for the registry's REST API.
type HTTPClient struct {
	api *hamba.Client

	mu   sync.Mutex
	ids  map[registration]int
	byID map[int]*Registered
}

type registration struct {
	subject     string
	fingerprint uint64
}

var _ Client = (*HTTPClient)(nil)

// New returns a client for the registry at cfg.URL.
func New(cfg Config) (*HTTPClient, error) {
	if cfg.URL == "" {
		return nil, errors.New("schema registry URL is empty")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		timeout := cfg.Timeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		hc = &http.Client{Timeout: timeout}
	}
	opts := []hamba.ClientFunc{hamba.WithHTTPClient(hc)}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, hamba.WithBasicAuth(cfg.Username, cfg.Password))
	}
	api, err := hamba.NewClient(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry URL %q: %w", cfg.URL, err)
	}
	return &HTTPClient{
		api:  api,
		ids:  make(map[registration]int),
		byID: make(map[int]*Registered),
	}, nil
}

// Register registers s under subject, once per client: later calls for the same
// subject and schema return the cached ID (concurrent first calls may each ask
// the registry, which answers with the same ID). The full .avsc text is
// registered, so the registry keeps the docs and tvm.* annotations.
func (c *HTTPClient) Register(ctx context.Context, subject string, s *schemas.Schema) (int, error) {
	key := registration{subject: subject, fingerprint: s.Fingerprint}
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	id, _, err := c.api.CreateSchema(ctx, subject, s.Text)
	if err != nil {
		return 0, fmt.Errorf("register schema %s under subject %s: %w", s.FullName, subject, apiError(err))
	}
	c.mu.Lock()
	c.ids[key] = id
	c.mu.Unlock()
	return id, nil
}

// SchemaByID fetches the schema with the given ID; results are cached (schema
// IDs never change meaning). Concurrent first calls for one ID may each fetch.
func (c *HTTPClient) SchemaByID(ctx context.Context, id int) (*Registered, error) {
	c.mu.Lock()
	r, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	s, err := c.api.GetSchema(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetch schema %d: %w", id, apiError(err))
	}
	canonical, fp, err := schemas.CanonicalFingerprint(s.String())
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	r = &Registered{ID: id, Canonical: canonical, Fingerprint: fp}
	if known, err := schemas.ByFingerprint(fp); err == nil {
		r.Known = known
	}
	c.mu.Lock()
	c.byID[id] = r
	c.mu.Unlock()
	return r, nil
}

// apiError turns the registry error of the underlying client into *Error.
func apiError(err error) error {
	var e hamba.Error
	if errors.As(err, &e) {
		return &Error{StatusCode: e.StatusCode, Code: e.Code, Message: e.Message}
	}
	return err
}
