// Package registry talks to a Confluent Schema Registry (or a compatible one) for
// the connector: sources register their value schemas on start and frame
// records with the returned IDs (schemas.AppendConfluent); the sink resolves the
// IDs it reads back to schemas.
//
// It wraps hamba/avro's registry client, which does the HTTP (content type
// application/vnd.schemaregistry.v1+json, basic auth) and caches schemas by ID;
// this package adds caching of registrations, keeps each subject's
// compatibility level at least as strict as the configured one, asks the
// registry whether a new schema is compatible before registering it, and matches
// fetched schemas to the embedded ones by their canonical fingerprint.
//
// The credentials go to the registry's origin only: a redirect to another
// scheme, host or port is refused.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/sameorigin"

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
	URL string `envconfig:"URL" desc:"Confluent-compatible schema registry; empty: Avro single-object encoding"`
	// Username and Password, when set, are sent with HTTP basic auth
	// (Confluent Cloud: API key and secret).
	Username string `envconfig:"USERNAME" desc:"registry basic-auth user"`
	Password string `envconfig:"PASSWORD" desc:"registry basic-auth password (never logged)"`
	// HTTPClient to use; nil means one with Timeout.
	HTTPClient *http.Client `ignored:"true"`
	// Timeout of each request when HTTPClient is nil; zero means 30s.
	Timeout time.Duration `ignored:"true"`
	// Compatibility is the compatibility level the subjects registered to
	// should have at least (default BACKWARD; see Compatibility levels). A
	// subject's level is raised to it when it is looser or unset, and left
	// alone when it is stricter, or neither stricter nor looser.
	Compatibility string `envconfig:"COMPATIBILITY" default:"BACKWARD" desc:"lowest compatibility level of tvmkafka's subjects: raised when looser or unset, never lowered; new schemas are checked against it before registering"`
}

// Compatibility levels of the Confluent Schema Registry.
const (
	None               = "NONE"
	Backward           = "BACKWARD"
	BackwardTransitive = "BACKWARD_TRANSITIVE"
	Forward            = "FORWARD"
	ForwardTransitive  = "FORWARD_TRANSITIVE"
	Full               = "FULL"
	FullTransitive     = "FULL_TRANSITIVE"
)

// DefaultCompatibility is the level Config.Compatibility defaults to: readers
// with the newest schema can read every record of the one before.
const DefaultCompatibility = Backward

// guarantees is what a level checks a new schema against, in each direction:
// 0 nothing, 1 the latest version, 2 every version.
type guarantees struct{ backward, forward int }

var levels = map[string]guarantees{
	None:               {0, 0},
	Backward:           {1, 0},
	BackwardTransitive: {2, 0},
	Forward:            {0, 1},
	ForwardTransitive:  {0, 2},
	Full:               {1, 1},
	FullTransitive:     {2, 2},
}

// atLeastAsStrict reports whether level a checks everything level b checks.
// Some levels are not comparable: FORWARD and BACKWARD each check what the other
// does not.
func atLeastAsStrict(a, b string) bool {
	ga, oka := levels[a]
	gb, okb := levels[b]
	return oka && okb && ga.backward >= gb.backward && ga.forward >= gb.forward
}

// IncompatibleError is returned by Register when the registry finds the schema
// incompatible with the subject's latest version.
type IncompatibleError struct {
	Subject string
	Schema  string // full name of the schema refused
	// Messages are the registry's reasons (the verbose answer's messages).
	Messages []string
}

// ErrIncompatible matches an *IncompatibleError.
var ErrIncompatible = errors.New("schema registry: schema is incompatible")

func (e *IncompatibleError) Error() string {
	reason := strings.Join(e.Messages, "; ")
	if reason == "" {
		reason = "the registry gave no reason"
	}
	return fmt.Sprintf("schema %s is incompatible with the latest version of subject %s: %s", e.Schema, e.Subject, reason)
}

// Is matches ErrIncompatible.
func (e *IncompatibleError) Is(target error) bool { return target == ErrIncompatible }

// ErrCrossOriginRedirect: the registry answered with a redirect to another
// scheme, host or port, which is refused so that the credentials stay with it.
var ErrCrossOriginRedirect = errors.New("schema registry: redirect to another origin refused")

// HTTPClient is a Client for the registry's REST API.
type HTTPClient struct {
	api           *hamba.Client
	http          *http.Client
	base          *url.URL
	user, pass    string
	compatibility string

	mu      sync.Mutex
	ids     map[registration]int
	byID    map[int]*Registered
	leveled map[string]bool // subjects whose level was checked by this client
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
	compatibility := cfg.Compatibility
	if compatibility == "" {
		compatibility = DefaultCompatibility
	}
	if _, ok := levels[compatibility]; !ok {
		return nil, fmt.Errorf("schema registry compatibility %q: want one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE", cfg.Compatibility)
	}
	base, err := url.Parse(cfg.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("schema registry URL %q: want http(s)://host[:port]", cfg.URL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/" // paths are resolved below it, as hamba's client does
	}
	hc := cfg.HTTPClient
	if hc == nil {
		timeout := cfg.Timeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		hc = &http.Client{Timeout: timeout}
	}
	hc = sameorigin.Client(hc, base, ErrCrossOriginRedirect, "the registry")
	opts := []hamba.ClientFunc{hamba.WithHTTPClient(hc)}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, hamba.WithBasicAuth(cfg.Username, cfg.Password))
	}
	api, err := hamba.NewClient(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry URL %q: %w", cfg.URL, err)
	}
	return &HTTPClient{
		api:           api,
		http:          hc,
		base:          base,
		user:          cfg.Username,
		pass:          cfg.Password,
		compatibility: compatibility,
		ids:           make(map[registration]int),
		byID:          make(map[int]*Registered),
		leveled:       make(map[string]bool),
	}, nil
}

// Register registers s under subject, once per client: later calls for the same
// subject and schema return the cached ID (concurrent first calls may each ask
// the registry, which answers with the same ID). The full .avsc text is
// registered, so the registry keeps the docs and tvm.* annotations.
//
// Before that, the subject's compatibility level is raised to the configured
// one where it is looser (see Config.Compatibility), and a schema the subject
// does not have yet is checked against its latest version: an incompatible one
// is refused with an *IncompatibleError carrying the registry's reasons.
func (c *HTTPClient) Register(ctx context.Context, subject string, s *schemas.Schema) (int, error) {
	key := registration{subject: subject, fingerprint: s.Fingerprint}
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	if err := c.ensureLevel(ctx, subject); err != nil {
		return 0, err
	}
	id, found, err := c.lookup(ctx, subject, s)
	if err != nil {
		return 0, fmt.Errorf("look up schema %s under subject %s: %w", s.FullName, subject, err)
	}
	if !found {
		if err := c.checkCompatible(ctx, subject, s); err != nil {
			return 0, err
		}
		if id, _, err = c.api.CreateSchema(ctx, subject, s.Text); err != nil {
			return 0, fmt.Errorf("register schema %s under subject %s: %w", s.FullName, subject, apiError(err))
		}
	}
	c.mu.Lock()
	c.ids[key] = id
	c.mu.Unlock()
	return id, nil
}

// Registry error codes this client acts on.
const (
	codeSubjectNotFound           = 40401
	codeSchemaNotFound            = 40403
	codeSubjectLevelNotConfigured = 40408
)

// lookup asks whether subject already has s (POST /subjects/{subject}).
func (c *HTTPClient) lookup(ctx context.Context, subject string, s *schemas.Schema) (int, bool, error) {
	var out struct {
		ID int `json:"id"`
	}
	err := c.request(ctx, http.MethodPost, "subjects/"+url.PathEscape(subject), nil, map[string]string{"schema": s.Text}, &out)
	var regErr *Error
	if errors.As(err, &regErr) && (regErr.Code == codeSubjectNotFound || regErr.Code == codeSchemaNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return out.ID, true, nil
}

// checkCompatible asks the registry whether s may follow the subject's latest
// version. A subject without versions accepts any schema.
func (c *HTTPClient) checkCompatible(ctx context.Context, subject string, s *schemas.Schema) error {
	var out struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}
	err := c.request(ctx, http.MethodPost, "compatibility/subjects/"+url.PathEscape(subject)+"/versions/latest",
		url.Values{"verbose": {"true"}}, map[string]string{"schema": s.Text}, &out)
	var regErr *Error
	if errors.As(err, &regErr) && regErr.Code == codeSubjectNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check schema %s against subject %s: %w", s.FullName, subject, err)
	}
	if !out.IsCompatible {
		return &IncompatibleError{Subject: subject, Schema: s.FullName, Messages: out.Messages}
	}
	return nil
}

// ensureLevel makes the subject's compatibility level at least as strict as the
// configured one, once per subject and client. It never loosens: a subject-level
// setting that is stricter, or checks something the configured level does not
// (FORWARD against BACKWARD), stays; an unset subject level is set unless the
// registry's global level, which then applies, is the stricter one.
func (c *HTTPClient) ensureLevel(ctx context.Context, subject string) error {
	c.mu.Lock()
	done := c.leveled[subject]
	c.mu.Unlock()
	if done {
		return nil
	}
	var set bool
	current, err := c.level(ctx, "config/"+url.PathEscape(subject))
	var regErr *Error
	switch {
	case errors.As(err, &regErr) && (regErr.Code == codeSubjectLevelNotConfigured || regErr.Code == codeSubjectNotFound):
		// Unset (older registries answer 40401 for a subject without a level):
		// the global level applies. Pinning the configured level is right when
		// it is at least as strict, so that loosening the global one later does
		// not loosen our subjects.
		global, err := c.level(ctx, "config")
		if err != nil {
			return fmt.Errorf("read the global compatibility level: %w", err)
		}
		set = atLeastAsStrict(c.compatibility, global)
	case err != nil:
		return fmt.Errorf("read the compatibility level of subject %s: %w", subject, err)
	default:
		set = current != c.compatibility && atLeastAsStrict(c.compatibility, current)
	}
	if set {
		err := c.request(ctx, http.MethodPut, "config/"+url.PathEscape(subject), nil,
			map[string]string{"compatibility": c.compatibility}, nil)
		if err != nil {
			return fmt.Errorf("set the compatibility level of subject %s to %s: %w", subject, c.compatibility, err)
		}
	}
	c.mu.Lock()
	c.leveled[subject] = true
	c.mu.Unlock()
	return nil
}

// level reads a compatibility level (GET /config or /config/{subject}).
func (c *HTTPClient) level(ctx context.Context, path string) (string, error) {
	var out struct {
		Level string `json:"compatibilityLevel"`
		// Some registries answer with the PUT body's member name.
		Compatibility string `json:"compatibility"`
	}
	if err := c.request(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return "", err
	}
	if out.Level == "" {
		return out.Compatibility, nil
	}
	return out.Level, nil
}

// request calls the registry's REST API with a JSON body (if in is not nil) and
// decodes a 2xx answer into out (if not nil); an error answer becomes an *Error.
func (c *HTTPClient) request(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build %s %s request: %w", method, path, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", contentType)
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{StatusCode: resp.StatusCode}
		var payload struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&payload) == nil {
			e.Code, e.Message = payload.Code, payload.Message
		}
		return e
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

// contentType is the registry API's media type.
const contentType = "application/vnd.schemaregistry.v1+json"

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
