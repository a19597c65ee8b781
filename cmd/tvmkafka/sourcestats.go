package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// sourceStats counts what source runs did, per stream, for the table
// `source --once` ends with: records handed to Kafka, export chunks
// downloaded (plugin pages for plugins). It watches the Tenable client and the
// producer from outside the source, through the interfaces source.New takes.
type sourceStats struct {
	mu      sync.Mutex
	records map[string]int64 // by topic
	chunks  map[string]int64 // by stream
}

func newSourceStats() *sourceStats {
	return &sourceStats{records: map[string]int64{}, chunks: map[string]int64{}}
}

func (s *sourceStats) add(m map[string]int64, k string, n int64) {
	s.mu.Lock()
	m[k] += n
	s.mu.Unlock()
}

func (s *sourceStats) get(m map[string]int64, k string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m[k]
}

// wrap returns the API and publisher a source counting into s uses.
func (s *sourceStats) wrap(api source.Tenable, pub source.Publisher) (source.Tenable, source.Publisher) {
	return countingAPI{api, s}, countingPublisher{pub, s}
}

type countingPublisher struct {
	source.Publisher
	st *sourceStats
}

func (p countingPublisher) Send(ctx context.Context, g *kafkaio.AckGroup, msgs ...kafkaio.Record) error {
	err := p.Publisher.Send(ctx, g, msgs...)
	if err == nil {
		for i := range msgs {
			p.st.add(p.st.records, msgs[i].Topic, 1)
		}
	}
	return err
}

type countingAPI struct {
	source.Tenable
	st *sourceStats
}

// streamOfKind is the stream of each export kind.
var streamOfKind = func() map[tenable.ExportKind]string {
	m := map[tenable.ExportKind]string{}
	for _, s := range source.Table {
		if s.Runs == source.RunExports {
			m[s.Kind] = s.Name
		}
	}
	return m
}()

func (a countingAPI) DownloadChunk(ctx context.Context, kind tenable.ExportKind, uuid string, chunk int, fn tenable.RecordFunc) (int, error) {
	n, err := a.Tenable.DownloadChunk(ctx, kind, uuid, chunk, fn)
	if err == nil {
		a.st.add(a.st.chunks, streamOfKind[kind], 1)
	}
	return n, err
}

func (a countingAPI) ListPlugins(ctx context.Context, opts tenable.PluginListOptions, fn tenable.RecordFunc) (int, error) {
	onPage := opts.OnPage
	opts.OnPage = func(p tenable.PluginPage) error {
		if onPage != nil {
			if err := onPage(p); err != nil {
				return err
			}
		}
		a.st.add(a.st.chunks, source.StreamPlugins, 1)
		return nil
	}
	return a.Tenable.ListPlugins(ctx, opts, fn)
}

// streamResult is one row of the table.
type streamResult struct {
	name    string
	elapsed time.Duration
	err     error
}

// runOnceWithTable runs each stream once, concurrently as RunOnce does, and
// writes a table of what each did to out.
func runOnceWithTable(ctx context.Context, out io.Writer, cfg config, src *source.Source, st *sourceStats, names []string) error {
	results := make([]streamResult, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			start := time.Now()
			err := src.RunOnce(ctx, []string{name})
			results[i] = streamResult{name, time.Since(start), err}
		})
	}
	wg.Wait()
	writeStreamTable(out, cfg, src, st, results)
	var errs []error
	for _, r := range results {
		errs = append(errs, r.err)
	}
	return errors.Join(errs...)
}

func writeStreamTable(out io.Writer, cfg config, src *source.Source, st *sourceStats, results []streamResult) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tRECORDS\tCHUNKS/PAGES\tTIME\tNEW WATERMARK")
	for _, r := range results {
		def, _ := source.Lookup(r.name)
		n := st.get(st.chunks, r.name)
		unit := "chunk"
		if def.Runs == source.RunPages {
			unit = "page"
		}
		if n != 1 {
			unit += "s"
		}
		watermark := "-"
		if r.err != nil {
			watermark = "failed: not moved"
		} else if cp := src.Checkpoint(def.Checkpoints()[0]); !cp.Watermark.IsZero() {
			watermark = cp.Watermark.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d %s\t%s\t%s\n", r.name, st.get(st.records, cfg.Streams.Topic[r.name]),
			n, unit, r.elapsed.Round(time.Millisecond), watermark)
	}
	_ = tw.Flush()
}
