package source

import (
	"slices"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas"
)

// TestTableCheckpointsAreStable pins the checkpoint names: they key the
// state topic, so renaming one would make a running deployment export its
// stream from scratch.
func TestTableCheckpointsAreStable(t *testing.T) {
	want := map[string][]string{
		StreamAssets:     {"assets.active", "assets.deleted", "assets.terminated"},
		StreamVulns:      {"vulns"},
		StreamCompliance: {"compliance"},
		StreamPlugins:    {"plugins"},
	}
	if len(Table) != len(want) {
		t.Fatalf("Table has %d streams, want %d", len(Table), len(want))
	}
	for _, s := range Table {
		if got := s.Checkpoints(); !slices.Equal(got, want[s.Name]) {
			t.Errorf("%s checkpoints %v, want %v", s.Name, got, want[s.Name])
		}
	}
}

// TestTableEntriesAreComplete: every entry names a distinct stream and topic,
// an embedded schema with key fields, a cleanup policy and a positive interval,
// and an export stream has exports to run.
func TestTableEntriesAreComplete(t *testing.T) {
	names, topics := map[string]bool{}, map[string]bool{}
	for _, s := range Table {
		if s.Name == "" || names[s.Name] {
			t.Errorf("stream name %q empty or repeated", s.Name)
		}
		if s.Topic == "" || topics[s.Topic] {
			t.Errorf("%s: topic %q empty or repeated", s.Name, s.Topic)
		}
		names[s.Name], topics[s.Topic] = true, true
		sch, err := schemas.Get(s.Schema)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
		} else if len(sch.KeyFields) == 0 {
			t.Errorf("%s: schema %s declares no tvm.key, so its records would have no Kafka key", s.Name, s.Schema)
		}
		if s.Noun == "" || s.Doc == "" || s.Key == "" || s.RecordType == "" || s.Cleanup == "" || s.Interval <= 0 {
			t.Errorf("%s: incomplete entry %+v", s.Name, s)
		}
		switch s.Runs {
		case RunExports:
			if s.Kind == "" || len(s.exports) == 0 {
				t.Errorf("%s: an export stream needs an export kind and exports", s.Name)
			}
			for _, e := range s.exports {
				if e.start == nil {
					t.Errorf("%s: an export without a request", s.Name)
				}
			}
		case RunPages:
			if len(s.exports) != 0 {
				t.Errorf("%s: a paged stream has no exports", s.Name)
			}
		}
	}
}
