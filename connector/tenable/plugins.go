package tenable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tvmkafka/tvmkafka/pipeline/retry"
)

// Plugin list paging limits.
const (
	DefaultPluginPageSize = 1000
	MaxPluginPageSize     = 10000
)

// PluginListOptions select and page GET /plugins/plugin.
type PluginListOptions struct {
	// LastUpdated keeps plugins updated after this date (day granularity; Tenable
	// ignores VPR-only updates here). Zero lists every plugin.
	LastUpdated time.Time
	// Size is the page size, default 1000, at most 10000.
	Size int
	// Page is the first page to fetch (1-based, default 1); set it to resume.
	Page int
	// OnPage, if set, is called after each page was fully handed to the RecordFunc;
	// an error stops the listing (for example when the page could not be stored).
	OnPage func(PluginPage) error
}

// PluginPage describes a page of the plugin list that was handed over.
type PluginPage struct {
	Page       int
	Records    int // plugins on this page
	Seen       int // plugins handed over so far, all pages
	TotalCount int // total_count as reported on this page
	// ServerTime is Tenable's clock when it answered (the Date header).
	ServerTime time.Time
}

// ListPlugins pages through the plugin list until total_count plugins were seen (or
// a page comes back empty) and calls fn for each plugin's raw JSON
// ({"id":..,"name":..,"attributes":{..}}). It returns the number of plugins.
func (c *Client) ListPlugins(ctx context.Context, opts PluginListOptions, fn RecordFunc) (int, error) {
	size := opts.Size
	if size == 0 {
		size = DefaultPluginPageSize
	}
	if size < 1 || size > MaxPluginPageSize {
		return 0, fmt.Errorf("list plugins: page size %d is outside 1-%d", size, MaxPluginPageSize)
	}
	page := max(opts.Page, 1)
	seen := (page - 1) * size
	for {
		p, err := c.pluginPage(ctx, opts.LastUpdated, size, page, fn)
		if err != nil {
			return seen, err
		}
		seen += p.Records
		p.Seen = seen
		if opts.OnPage != nil {
			if err := opts.OnPage(p); err != nil {
				return seen, err
			}
		}
		if p.Records == 0 || seen >= p.TotalCount {
			return seen, nil
		}
		page++
	}
}

// pluginPage fetches one page, again if its body breaks off, skipping the plugins
// already handed over.
func (c *Client) pluginPage(ctx context.Context, lastUpdated time.Time, size, page int, fn RecordFunc) (PluginPage, error) {
	q := url.Values{"size": {strconv.Itoa(size)}, "page": {strconv.Itoa(page)}}
	if !lastUpdated.IsZero() {
		q.Set("last_updated", lastUpdated.UTC().Format(time.DateOnly))
	}
	delivered := 0
	var got PluginPage
	op := func(ctx context.Context) error {
		resp, err := c.do(ctx, call{method: http.MethodGet, path: "/plugins/plugin", query: q, stream: true})
		if err != nil { // do has retried what was worth retrying
			return retry.Permanent(err)
		}
		p, err := decodePluginPage(resp.Body, delivered, fn)
		_ = resp.Body.Close()
		p.ServerTime = c.serverTime(resp.Header)
		delivered = max(delivered, p.Records)
		if err == nil {
			p.Page = page
			got = p
			return nil
		}
		var fnErr *recordFuncError
		if errors.As(err, &fnErr) || ctx.Err() != nil {
			return retry.Permanent(err)
		}
		return err
	}
	notify := func(err error, attempt int, wait time.Duration) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "plugin page broke off, fetching it again",
			slog.Int("page", page), slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
	}
	err := retry.Do(ctx, c.bodyPolicy(), op, notify)
	if err == nil {
		return got, nil
	}
	var fnErr *recordFuncError
	if errors.As(err, &fnErr) {
		return PluginPage{}, fnErr.err
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return PluginPage{}, ctx.Err()
	}
	var stopped *retry.StoppedError
	if errors.As(err, &stopped) && !stopped.Deadline {
		return PluginPage{}, fmt.Errorf("list plugins page %d: unreadable after %d attempts: %w", page, stopped.Attempts, stopped.Err)
	}
	return PluginPage{}, fmt.Errorf("list plugins page %d: %w", page, err)
}

// decodePluginPage streams {"data":{"plugin_details":[...]},"total_count":N,...}
// whatever the order of its members.
func decodePluginPage(r io.Reader, skip int, fn RecordFunc) (PluginPage, error) {
	var p PluginPage
	dec := jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if err := expectDelim(dec, '{'); err != nil {
		return p, err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return p, chunkReadError(err)
		}
		switch name.String() {
		case "total_count":
			v, err := dec.ReadValue()
			if err != nil {
				return p, chunkReadError(err)
			}
			if err := json.Unmarshal(v, &p.TotalCount); err != nil {
				return p, fmt.Errorf("plugin page total_count: %w", err)
			}
		case "data":
			if err := expectDelim(dec, '{'); err != nil {
				return p, err
			}
			for dec.PeekKind() != '}' {
				inner, err := dec.ReadToken()
				if err != nil {
					return p, chunkReadError(err)
				}
				if inner.String() != "plugin_details" || dec.PeekKind() != '[' {
					if err := dec.SkipValue(); err != nil {
						return p, chunkReadError(err)
					}
					continue
				}
				n, err := decodeArray(dec, skip, fn)
				p.Records = n
				if err != nil {
					return p, err
				}
			}
			if _, err := dec.ReadToken(); err != nil {
				return p, chunkReadError(err)
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return p, chunkReadError(err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return p, chunkReadError(err)
	}
	return p, nil
}

func expectDelim(dec *jsontext.Decoder, kind jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return chunkReadError(err)
	}
	if tok.Kind() != kind {
		return fmt.Errorf("expected %v in JSON, found %v", kind, tok.Kind())
	}
	return nil
}
