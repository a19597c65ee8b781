package tenable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Test for them with errors.Is; the concrete error usually is an
// *APIError or an *ExportError that carries the details.
var (
	// ErrUnauthorized: the API keys were refused (HTTP 401).
	ErrUnauthorized = errors.New("tenable: invalid API keys")
	// ErrForbidden: the keys' user lacks the role or permission (HTTP 403).
	ErrForbidden = errors.New("tenable: insufficient permission")
	// ErrNotFound: the export, chunk, job or path is unknown (HTTP 404).
	ErrNotFound = errors.New("tenable: not found")
	// ErrChunkExpired: a chunk could not be downloaded any more. Tenable keeps chunks
	// for 24 hours (3 days for compliance and cancelled jobs) and answers 404 after that;
	// the only remedy is a new export.
	ErrChunkExpired = errors.New("tenable: export chunk expired or unknown")
	// ErrExportFailed: the export ended in ERROR. Tenable's advice is to submit it again.
	ErrExportFailed = errors.New("tenable: export failed")
	// ErrExportIncomplete: the export finished, but some chunks failed or were cancelled
	// (chunks_failed / chunks_cancelled). The data of those chunks never arrived.
	ErrExportIncomplete = errors.New("tenable: export finished with failed chunks")
	// ErrExportCancelled: the export was cancelled, by us or by someone else.
	ErrExportCancelled = errors.New("tenable: export cancelled")
	// ErrQueueTimeout: the export stayed QUEUED longer than allowed and was cancelled.
	ErrQueueTimeout = errors.New("tenable: export stayed queued too long")
)

// ErrorClass sorts a failure by what a caller should do about it.
type ErrorClass int

const (
	// Permanent failures are not retried: bad input, bad keys, missing objects, a
	// cancelled context.
	Permanent ErrorClass = iota
	// Throttled failures are retried after the delay the server asked for
	// (429, or 503 with Retry-After), or after the backoff delay when it named none.
	Throttled
	// Retryable failures are retried with exponential backoff: 500, 502, 503, 504,
	// network errors, bodies cut short.
	Retryable
)

func (c ErrorClass) String() string {
	switch c {
	case Throttled:
		return "throttled"
	case Retryable:
		return "retryable"
	default:
		return "permanent"
	}
}

// APIError is a non-2xx answer from Tenable VM.
type APIError struct {
	Method     string
	Path       string // URL path without the query
	StatusCode int
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	// RequestUUID is Tenable's X-Request-Uuid of the failed response, for support cases.
	RequestUUID string
	// Body is the start of the response body (at most maxErrorBody bytes).
	Body []byte
}

const maxErrorBody = 64 << 10

func (e *APIError) Error() string {
	msg := e.message()
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("tenable: %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// message extracts the human part of Tenable's error bodies, which come in several
// shapes ({"message"}, {"error"}, {"failure_reason"}, nginx HTML for 429).
func (e *APIError) message() string {
	var body struct {
		Message       string `json:"message"`
		Error         string `json:"error"`
		FailureReason string `json:"failure_reason"`
	}
	if err := unmarshal(e.Body, &body); err == nil {
		for _, m := range []string{body.Message, body.FailureReason, body.Error} {
			if m != "" {
				return m
			}
		}
	}
	s := strings.TrimSpace(string(e.Body))
	if strings.HasPrefix(s, "<") { // an HTML page says nothing the status does not
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Is lets errors.Is match an APIError against the sentinels for its status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// Class sorts the status code: 429 (and 503 with Retry-After) are throttled;
// 500, 502, 503 and 504 are retryable; everything else is permanent.
func (e *APIError) Class() ErrorClass {
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return Throttled
	case http.StatusServiceUnavailable:
		if e.RetryAfter > 0 {
			return Throttled
		}
		return Retryable
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return Retryable
	}
	return Permanent
}

// Classify sorts any error returned by this package or by the HTTP transport.
func Classify(err error) ErrorClass {
	if err == nil {
		return Permanent
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A per-attempt timeout also ends in DeadlineExceeded; the retry loop tells
		// the two apart by checking the caller's context first.
		return Permanent
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Class()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, errTruncatedChunk) {
		return Retryable
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return Retryable
	}
	return Permanent
}

// parseRetryAfter reads a Retry-After header: delay seconds (Tenable's form) or an
// HTTP date. It returns zero when the header is absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(secs) || secs <= 0: // ParseFloat also accepts "NaN" and "-Inf"
			return 0
		case secs > maxRetryAfter.Seconds():
			return maxRetryAfter
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return min(d, maxRetryAfter)
	}
	return 0
}

// maxRetryAfter bounds how long one Retry-After may hold a request back, so a
// misbehaving proxy cannot park the connector for hours.
const maxRetryAfter = 10 * time.Minute

// ExportError describes an export that did not deliver all its data.
// It matches ErrExportFailed, ErrExportIncomplete or ErrExportCancelled.
type ExportError struct {
	Kind            ExportKind
	UUID            string
	Status          ExportState
	Reason          string
	ChunksFailed    []int
	ChunksCancelled []int
	sentinel        error
}

func (e *ExportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s export %s ended %s", e.Kind, e.UUID, e.Status)
	if len(e.ChunksFailed) > 0 {
		fmt.Fprintf(&b, ", chunks failed %v", e.ChunksFailed)
	}
	if len(e.ChunksCancelled) > 0 {
		fmt.Fprintf(&b, ", chunks cancelled %v", e.ChunksCancelled)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	return b.String()
}

func (e *ExportError) Unwrap() error { return e.sentinel }
