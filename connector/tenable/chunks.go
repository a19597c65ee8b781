package tenable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// RecordFunc receives one record of a chunk or page as raw JSON. The slice is only
// valid during the call: copy it to keep it.
type RecordFunc func(record []byte) error

// maxBodyAttempts bounds how often one chunk or page is downloaded after its body
// broke off or did not parse (pyTenable allows four attempts as well).
const maxBodyAttempts = 4

// errTruncatedChunk marks a chunk body that ended before its closing bracket.
var errTruncatedChunk = errors.New("chunk body ended early")

// recordFuncError carries an error returned by the caller's RecordFunc, which is
// never retried.
type recordFuncError struct{ err error }

func (e *recordFuncError) Error() string { return e.err.Error() }
func (e *recordFuncError) Unwrap() error { return e.err }

// DecodeChunk reads a JSON array from r one element at a time and hands each to fn,
// so a chunk is never held in memory whole. It checks the array's structure; the
// grammar inside each record is checked by whoever parses the record (see
// arraySplitter). The first skip elements are read but not handed over (used to
// resume a download that broke off). It returns the number of elements read,
// skipped ones included. The Content-Type of the body does not
// matter: Tenable labels JSON chunks application/octet-stream.
func DecodeChunk(r io.Reader, skip int, fn RecordFunc) (int, error) {
	return newArraySplitter(r).each(skip, fn)
}

// decodeArray walks the JSON array at the decoder's position.
func decodeArray(dec *jsontext.Decoder, skip int, fn RecordFunc) (int, error) {
	if err := expectDelim(dec, '['); err != nil {
		return 0, err
	}
	n := 0
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return n, chunkReadError(err)
		}
		n++
		if n <= skip {
			continue
		}
		if err := fn(v); err != nil {
			return n, &recordFuncError{err: err}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing bracket
		return n, chunkReadError(err)
	}
	return n, nil
}

// chunkReadError keeps the cause of a broken body visible: a cut-off stream ends in
// io.ErrUnexpectedEOF (retryable); bytes that are not JSON are reported as such.
func chunkReadError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", errTruncatedChunk, err)
	}
	var syntaxErr *jsontext.SyntacticError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("chunk body is not valid JSON: %w", err)
	}
	return fmt.Errorf("read chunk body: %w", err) // a stalled or reset connection

}

// DownloadChunk streams one chunk of an export and calls fn for each record. When
// the body breaks off or does not parse, the chunk is fetched again (a chunk never
// changes once created) and the records already handed to fn are skipped, so fn
// sees every record exactly once. It returns the number of records.
//
// A 404 means the chunk expired (or never existed) and yields ErrChunkExpired.
func (c *Client) DownloadChunk(ctx context.Context, kind ExportKind, uuid string, chunk int, fn RecordFunc) (int, error) {
	path := chunkPath(kind, uuid, chunk)
	delivered := 0
	attempt := 0
	op := func(ctx context.Context) error {
		attempt++
		resp, err := c.do(ctx, call{method: http.MethodGet, path: path, stream: true})
		if err != nil { // do has retried what was worth retrying
			if errors.Is(err, ErrNotFound) {
				return retry.Permanent(fmt.Errorf("%w: %w", ErrChunkExpired, err))
			}
			return retry.Permanent(err)
		}
		n, err := DecodeChunk(resp.Body, delivered, fn)
		_ = resp.Body.Close()
		if err == nil && n < delivered {
			return retry.Permanent(fmt.Errorf("%d records on attempt %d, %d before: the chunk changed", n, attempt, delivered))
		}
		delivered = max(delivered, n)
		if err == nil {
			return nil
		}
		var fnErr *recordFuncError
		if errors.As(err, &fnErr) {
			return retry.Permanent(err)
		}
		if ctx.Err() != nil {
			return retry.Permanent(ctx.Err())
		}
		return err
	}
	notify := func(err error, attempt int, wait time.Duration) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "chunk download broke off, fetching it again",
			slog.String("kind", string(kind)), slog.String("export_uuid", uuid), slog.Int("chunk", chunk),
			slog.Int("records_so_far", delivered), slog.Int("attempt", attempt), slog.Duration("wait", wait),
			slog.String("error", err.Error()))
	}
	err := retry.Do(ctx, c.bodyPolicy(), op, notify)
	if err == nil {
		return delivered, nil
	}
	var fnErr *recordFuncError
	if errors.As(err, &fnErr) {
		return delivered, fnErr.err
	}
	var stopped *retry.StoppedError
	if errors.As(err, &stopped) && !stopped.Deadline {
		return delivered, fmt.Errorf("chunk %d of %s export %s: unreadable after %d attempts: %w", chunk, kind, uuid, stopped.Attempts, stopped.Err)
	}
	return delivered, fmt.Errorf("chunk %d of %s export %s: %w", chunk, kind, uuid, err)
}

// bodyPolicy is the retry policy of a body that broke off or did not parse
// after a 2xx answer: the request itself was already retried by do, so only a
// few attempts with short waits (at most 30s) before the body is given up.
func (c *Client) bodyPolicy() retry.Policy {
	return retry.Policy{Initial: c.cfg.RetryInitial, Max: min(c.cfg.RetryMax, 30*time.Second),
		MaxRetries: maxBodyAttempts - 1, Clock: c.cfg.Clock}
}
