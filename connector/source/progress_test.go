package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

func attrMap(attrs []any) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(attrs); i += 2 {
		m[fmt.Sprint(attrs[i])] = fmt.Sprint(attrs[i+1])
	}
	return m
}

func TestProgressShowsPercentAndEstimateWhereTenableGivesTotals(t *testing.T) {
	total, empty := 12, 2 // ten chunks with records
	for _, tc := range []struct {
		name   string
		status tenable.ExportStatus
		done   int
		want   map[string]string
		absent []string
	}{
		{"vulns with total_chunks", tenable.ExportStatus{Status: tenable.StateProcessing, TotalChunks: &total, EmptyChunksCount: &empty}, 4,
			map[string]string{"chunks_total": "10", "percent": "40", "eta": "1m0s"}, nil},
		{"nothing done yet: no estimate", tenable.ExportStatus{Status: tenable.StateProcessing, TotalChunks: &total, EmptyChunksCount: &empty}, 0,
			map[string]string{"chunks_total": "10", "percent": "0"}, []string{"eta"}},
		{"assets: no total until the end", tenable.ExportStatus{Status: tenable.StateProcessing, ChunksAvailable: []int{1, 2, 3}}, 2,
			map[string]string{"chunks_available": "3", "chunks_total": "not reported by Tenable for this export until it finishes; no estimate"},
			[]string{"percent", "eta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProgress(slog.New(slog.DiscardHandler), "vulns", "uuid", tc.done)
			p.started = time.Now().Add(-40 * time.Second)
			p.setStatus(tc.status)
			got := attrMap(p.attrs())
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present (%q), want none", k, got[k])
				}
			}
		})
	}
}

func TestProgressFinishTellsAShutdownFromAFailure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantLevel string
		wantMsg   string
	}{
		{"shutdown", fmt.Errorf("download chunk 3: %w", context.Canceled), "INFO", "resumes from its checkpoint"},
		{"failure", errors.New("chunk 3: 404"), "WARN", "export ended with an error"},
		{"success", nil, "INFO", "export published"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(slog.New(slog.NewTextHandler(&buf, nil)), "vulns", "uuid", 0)
			p.finish(tenable.ExportStatus{Status: tenable.StateProcessing}, tc.err)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "level="+tc.wantLevel) || !strings.Contains(lines[0], tc.wantMsg) {
				t.Fatalf("logged %q, want one %s line saying %q", lines, tc.wantLevel, tc.wantMsg)
			}
		})
	}
}
