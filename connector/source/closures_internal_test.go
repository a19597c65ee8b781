package source

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/tvmkafka/tvmkafka/connector/source/findingindex"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// TestFindingsTap: what the per-record hook makes of each finding record: an
// index change (open or fixed) for an asset still there; for an asset already
// closed, a closure right after an open record and nothing for a fixed one.
func TestFindingsTap(t *testing.T) {
	const live, gone = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	ctx := context.Background()
	idx := findingindex.New(&findingindex.MemoryLog{})
	if err := idx.Close(ctx, []string{gone}, []findingindex.Closure{{Reason: findingindex.ReasonTerminated, At: 1_767_225_600_000}}); err != nil {
		t.Fatal(err)
	}
	d := &deps{version: "t", log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		topics: Topics{Stream: map[string]string{StreamVulns: "v", StreamCompliance: "c"}}}
	c := newCloser(d, idx)
	vuln := func(asset, state string) string {
		return `{"asset":{"uuid":"` + asset + `"},"plugin":{"id":19506},"port":{"port":443,"protocol":"tcp"},"state":"` + state + `"}`
	}
	for _, tc := range []struct {
		name       string
		stream     string
		schema     schemas.Name
		record     string
		wantChange string // "open", "fixed" or "" (none)
		wantClose  bool
	}{
		{"open vuln", StreamVulns, schemas.NameVuln, vuln(live, "OPEN"), "open", false},
		{"reopened vuln", StreamVulns, schemas.NameVuln, vuln(live, "REOPENED"), "open", false},
		{"fixed vuln", StreamVulns, schemas.NameVuln, vuln(live, "FIXED"), "fixed", false},
		{"late open vuln of a closed asset", StreamVulns, schemas.NameVuln, vuln(gone, "OPEN"), "", true},
		{"late fixed vuln of a closed asset", StreamVulns, schemas.NameVuln, vuln(gone, "FIXED"), "", false},
		{"compliance failed", StreamCompliance, schemas.NameCompliance, `{"asset_uuid":"` + live + `","check_id":"x","status":"FAILED","state":"OPEN"}`, "open", false},
		{"compliance passed, state open", StreamCompliance, schemas.NameCompliance, `{"asset_uuid":"` + live + `","check_id":"x","status":"PASSED","state":"OPEN"}`, "open", false},
		{"compliance fixed", StreamCompliance, schemas.NameCompliance, `{"asset_uuid":"` + live + `","check_id":"x","status":"PASSED","state":"FIXED"}`, "fixed", false},
		{"compliance without state, passed", StreamCompliance, schemas.NameCompliance, `{"asset_uuid":"` + live + `","check_id":"x","status":"PASSED"}`, "fixed", false},
		{"compliance without state, failed", StreamCompliance, schemas.NameCompliance, `{"asset_uuid":"` + live + `","check_id":"x","status":"FAILED"}`, "open", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := Lookup(tc.stream)
			tp := c.newTap(st, st.exports[0]).(*findingsTap)
			s, _ := schemas.Get(tc.schema)
			tcd := s.NewTranscoder()
			_, key, err := tcd.Transcode(nil, []byte(tc.record), nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &chunkPublisher{ctx: ctx, deps: d}
			tp.record(p, append([]byte(nil), key...), tcd)
			switch {
			case tc.wantChange == "" && len(tp.changes) != 0,
				tc.wantChange != "" && (len(tp.changes) != 1 || tp.changes[0].open != (tc.wantChange == "open")):
				t.Errorf("changes %+v, want %q", tp.changes, tc.wantChange)
			}
			if !tc.wantClose {
				if len(p.batch) != 0 {
					t.Errorf("unexpected messages %+v", p.batch)
				}
				return
			}
			if len(p.batch) != 1 || p.batch[0].Value != nil || string(p.batch[0].Key) != string(key) || p.batch[0].Topic != "v" {
				t.Fatalf("want one closure tombstone of %s on v, got %+v", key, p.batch)
			}
			h := map[string]string{}
			for _, x := range p.batch[0].Headers {
				h[x.Key] = string(x.Value)
			}
			want := map[string]string{HeaderRecordType: "vuln", HeaderClosedReason: "asset_terminated", HeaderAssetUUID: gone, HeaderClosedAt: "2026-01-01T00:00:00.000Z"}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("header %s = %q, want %q", k, h[k], v)
				}
			}
		})
	}
}

// TestFindingsTapKeepsItsOwnKeys: a finding's key shares the chunk's slab
// with its value, so the tap copies it: holding the slab's keys until the
// chunk's acknowledgement kept every value of the chunk in memory (a 92,000
// finding export peaked at 200 MB instead of 75). A slab reused after the
// record must not change what the index gets.
func TestFindingsTapKeepsItsOwnKeys(t *testing.T) {
	const asset = "11111111-1111-4111-8111-111111111111"
	ctx := context.Background()
	idx := findingindex.New(&findingindex.MemoryLog{})
	d := &deps{version: "t", log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		topics: Topics{Stream: map[string]string{StreamVulns: "v"}}}
	st, _ := Lookup(StreamVulns)
	tp := newCloser(d, idx).newTap(st, st.exports[0]).(*findingsTap)
	s, _ := schemas.Get(schemas.NameVuln)
	tc := s.NewTranscoder()
	slab := make([]byte, 0, 256)
	var want []string
	for _, plugin := range []string{"19506", "10287"} {
		_, key, err := tc.Transcode(nil, []byte(`{"asset":{"uuid":"`+asset+`"},"plugin":{"id":`+plugin+`},"port":{"port":443,"protocol":"tcp"},"state":"OPEN"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(key))
		slab = append(slab[:0], key...) // the same slab memory for each record
		tp.record(&chunkPublisher{ctx: ctx, deps: d}, slab, tc)
	}
	for i := range slab {
		slab[i] = 'x' // the slab goes on to hold other records
	}
	if err := tp.acked(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range idx.OpenKeys(asset, findingindex.KindVulns) {
		got = append(got, string(k))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("open keys %q, want %q", got, want)
	}
}
