package tenable

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tvmkafka/tvmkafka/pipeline/sameorigin"

	"github.com/go-json-experiment/json"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
	"github.com/tvmkafka/tvmkafka/pipeline/telemetry"
)

var (
	metricRequests = telemetry.Counter("tvmkafka.tenable.requests", "HTTP requests to Tenable VM, by method and status (retries included)", "{request}")
	metricRetries  = telemetry.Counter("tvmkafka.tenable.retries", "requests to Tenable VM sent again after a throttled or failed attempt", "{request}")
)

// libraryName is the library part of the User-Agent, after Tenable's integration part.
const libraryName = "tvmkafka-tenable"

// Client talks to the Tenable VM API. It is safe for concurrent use.
type Client struct {
	cfg       Config
	apiKeys   string // the X-ApiKeys value; never logged
	userAgent string
	log       *slog.Logger
	attempts  atomic.Int64 // HTTP attempts made, for progress reporting and tests
}

// New returns a client for cfg, or the configuration problems found.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tenable client config: %w", err)
	}
	cfg = cfg.withCollaborators()
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("tenable client config: base URL: %w", err)
	}
	cfg.HTTPClient = sameorigin.Client(cfg.HTTPClient, base, ErrCrossOriginRedirect, "the API")
	return &Client{
		cfg:       cfg,
		apiKeys:   "accessKey=" + cfg.AccessKey + "; secretKey=" + cfg.SecretKey + ";",
		userAgent: UserAgent(cfg.Vendor, cfg.Product, cfg.Build),
		log:       cfg.Logger,
	}, nil
}

// ErrCrossOriginRedirect: the API answered with a redirect to another scheme,
// host or port, which the client refuses to follow.
var ErrCrossOriginRedirect = errors.New("tenable: redirect to another origin refused")

// UserAgent builds Tenable's standard integration User-Agent, followed by the
// library part: "Integration/1.0 (vendor; product; Build/build) tvmkafka-tenable/build (Go/go1.x; os/arch)".
func UserAgent(vendor, product, build string) string {
	return fmt.Sprintf("Integration/1.0 (%s; %s; Build/%s) %s/%s (Go/%s; %s/%s)",
		vendor, product, build, libraryName, build, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// UserAgent returns the User-Agent this client sends.
func (c *Client) UserAgent() string { return c.userAgent }

// BaseURL returns the API base URL this client calls.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// Attempts returns the number of HTTP requests sent so far, retries included.
func (c *Client) Attempts() int64 { return c.attempts.Load() }

// LogValue keeps the keys out of structured logs that include the client.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.cfg.BaseURL), slog.String("access_key", redact(c.cfg.AccessKey)))
}

func redact(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return s[:4] + "****"
}

// call describes one logical API call; do may send it several times.
type call struct {
	method string
	path   string // below the base URL, starting with "/"
	query  url.Values
	body   []byte // JSON request body, resent on each attempt
	// stream leaves the response body open for the caller, guarded by a stall timeout
	// instead of a deadline on the whole exchange.
	stream bool
}

func (r call) url(base string) string {
	u := base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	return u
}

// Clock is the time source of retry and poll waits (retry.Clock), kept under
// this name so callers configuring a Client need not import pipeline/retry.
type Clock = retry.Clock

// policy is the retry policy of one call: exponential from RetryInitial to
// RetryMax when the server names no delay, its Retry-After as given when it does,
// at most MaxRetries retries, never past the context deadline.
func (c *Client) policy() retry.Policy {
	return retry.Policy{Initial: c.cfg.RetryInitial, Max: c.cfg.RetryMax, MaxRetries: c.cfg.MaxRetries, Clock: c.cfg.Clock}
}

// do sends the call, retrying throttled and retryable failures, and returns the
// 2xx response. The caller must close its body. Any non-2xx ends as an *APIError.
func (c *Client) do(ctx context.Context, r call) (*http.Response, error) {
	var (
		attempt     int
		lastReqUUID string
		resp        *http.Response
		lastErr     error
	)
	op := func(ctx context.Context) error {
		attempt++
		c.attempts.Add(1)
		res, err := c.attempt(ctx, r, attempt, lastReqUUID)
		if err == nil {
			resp = res
			return nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return retry.Permanent(err)
		}
		if Classify(err) == Permanent && !isAttemptTimeout(err) {
			return retry.Permanent(err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			lastReqUUID = apiErr.RequestUUID
			// The server's delay replaces the exponential one, never adds to it.
			return retry.After(err, apiErr.RetryAfter)
		}
		return err
	}
	notify := func(err error, attempt int, wait time.Duration) {
		metricRetries.Add(ctx, 1)
		c.log.LogAttrs(ctx, slog.LevelWarn, "tenable request failed, retrying",
			slog.String("method", r.method), slog.String("path", r.path),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
	}
	err := retry.Do(ctx, c.policy(), op, notify)
	if err == nil {
		return resp, nil
	}
	var stopped *retry.StoppedError
	switch {
	case errors.As(err, &stopped) && stopped.Deadline:
		return nil, fmt.Errorf("%s %s: giving up after %d attempts, the next retry would pass the deadline: %w", r.method, r.path, attempt, lastErr)
	case ctx.Err() != nil && lastErr != nil && !errors.Is(lastErr, ctx.Err()):
		return nil, fmt.Errorf("%s %s: %w (after %d attempts, last error: %v)", r.method, r.path, ctx.Err(), attempt, lastErr)
	case stopped != nil && attempt > 1:
		return nil, fmt.Errorf("%s %s: giving up after %d attempts: %w", r.method, r.path, attempt, lastErr)
	case stopped != nil:
		return nil, lastErr // no retry allowed: the failure as it came
	}
	return nil, err
}

// attemptTimeout marks a per-attempt timeout, which is retryable even though it
// surfaces as context.DeadlineExceeded.
type attemptTimeout struct{ err error }

func (e *attemptTimeout) Error() string { return "request timed out: " + e.err.Error() }
func (e *attemptTimeout) Unwrap() error { return e.err }

func isAttemptTimeout(err error) bool {
	var t *attemptTimeout
	return errors.As(err, &t)
}

// attempt sends one HTTP request.
func (c *Client) attempt(ctx context.Context, r call, attempt int, lastReqUUID string) (*http.Response, error) {
	actx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(c.cfg.RequestTimeout, func() { cancel(errAttemptTimeout) })
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url(c.cfg.BaseURL), body)
	if err != nil {
		timer.Stop()
		cancel(nil)
		return nil, fmt.Errorf("build request %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("X-ApiKeys", c.apiKeys)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if attempt > 1 {
		// Lets Tenable correlate retries with the request that failed.
		req.Header.Set("X-Tio-Retry-Count", strconv.Itoa(attempt-1))
		if lastReqUUID != "" {
			req.Header.Set("X-Tio-Last-Request-Uuid", lastReqUUID)
		}
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	metricRequests.Add(ctx, 1, metric.WithAttributes(attribute.String("method", r.method), attribute.String("status", status)))
	if err != nil {
		timer.Stop()
		cause := context.Cause(actx)
		cancel(nil)
		if errors.Is(cause, errAttemptTimeout) && ctx.Err() == nil {
			return nil, &attemptTimeout{err: fmt.Errorf("%s %s: no response within %v", r.method, r.path, c.cfg.RequestTimeout)}
		}
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, scrubURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.readAPIError(r, resp)
		timer.Stop()
		cancel(nil)
		return nil, apiErr
	}
	if r.stream {
		// From here on the timeout guards stalls, not the total time: a 100 MB chunk
		// may take minutes, but never RequestTimeout without a byte.
		resp.Body = &stallGuard{body: resp.Body, timer: timer, timeout: c.cfg.RequestTimeout, cancel: cancel}
		return resp, nil
	}
	resp.Body = &bodyWithCancel{ReadCloser: resp.Body, done: func() { timer.Stop(); cancel(nil) }}
	return resp, nil
}

var errAttemptTimeout = errors.New("attempt timeout")

func (c *Client) readAPIError(r call, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	reqUUID := resp.Header.Get("X-Tio-Last-Request-Uuid")
	if reqUUID == "" {
		reqUUID = resp.Header.Get("X-Request-Uuid")
	}
	return &APIError{
		Method:      r.method,
		Path:        r.path,
		StatusCode:  resp.StatusCode,
		RetryAfter:  parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Clock.Now()),
		RequestUUID: reqUUID,
		Body:        body,
	}
}

// scrubURLError drops the URL from transport errors: it holds nothing secret today,
// but query strings are where secrets end up, so logs never carry them.
func scrubURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// doJSON sends in (if not nil) as JSON and decodes a 2xx answer into out (if not nil).
// It returns the response headers, which carry the server's Date.
func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	r := call{method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		r.body = b
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Header, nil
	}
	if err := json.UnmarshalRead(resp.Body, out); err != nil {
		return resp.Header, fmt.Errorf("decode %s %s response: %w", method, path, err)
	}
	return resp.Header, nil
}

// serverTime reads the Date header, which is Tenable's clock; local time if absent.
func (c *Client) serverTime(h http.Header) time.Time {
	if h != nil {
		if t, err := http.ParseTime(h.Get("Date")); err == nil {
			return t
		}
	}
	return c.cfg.Clock.Now().Truncate(time.Second)
}

type bodyWithCancel struct {
	io.ReadCloser
	done func()
}

func (b *bodyWithCancel) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// stallGuard cancels the request when no byte arrives for timeout.
type stallGuard struct {
	body    io.ReadCloser
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelCauseFunc
}

func (s *stallGuard) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.timer.Reset(s.timeout)
	}
	return n, err
}

func (s *stallGuard) Close() error {
	s.timer.Stop()
	err := s.body.Close()
	s.cancel(nil)
	return err
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
