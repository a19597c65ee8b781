package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tvmkafka/tvmkafka/connector/source"
)

var update = flag.Bool("update", false, "rewrite the generated configuration tables in README.md")

const readmePath = "../../README.md"

// readmeBlocks are the README's generated parts, each between a BEGIN and an
// END marker.
var readmeBlocks = []struct {
	name   string
	render func(t *testing.T) string
}{
	{"STREAMS", renderStreamTable},
	{"CONFIGURATION", renderConfigTables},
}

func markers(name string) (begin, end string) {
	return "<!-- BEGIN GENERATED " + name + ": go test ./cmd/tvmkafka -run TestReadmeGenerated -update -->\n",
		"<!-- END GENERATED " + name + " -->\n"
}

// renderStreamTable renders source.Table as the README's map of the streams.
func renderStreamTable(*testing.T) string {
	var b strings.Builder
	b.WriteString("| stream | from Tenable VM | schema | topic (default) | key | runs every |\n|---|---|---|---|---|---|\n")
	for _, s := range source.Table {
		from := "paged list"
		if s.Runs == source.RunExports {
			from = "`" + string(s.Kind) + "` export"
			if cps := s.Checkpoints(); len(cps) > 1 {
				parts := make([]string, len(cps))
				for i, cp := range cps {
					parts[i] = strings.TrimPrefix(cp, s.Name+".")
				}
				from += fmt.Sprintf(", %d deltas: %s", len(cps), strings.Join(parts, ", "))
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | `%s` | %s | %s |\n", s.Name, from, s.Schema, s.Topic,
			strings.ReplaceAll(s.Key, "|", "\\|"), shortDuration(s.Interval))
	}
	return b.String()
}

// readmeSections titles the configuration sections, in README order.
var readmeSections = []struct{ key, title string }{
	{"TENABLE", "Tenable VM"}, {"KAFKA", "Kafka"}, {"SCHEMA_REGISTRY", "Schema registry"}, {"TOPIC", "Topics"},
	{"SOURCE", "Source stages"}, {"RUN", "`tvmkafka run`"}, {"SINK", "Sink"}, {"LOG", "Logging"}, {"HTTP", "Metrics and health"},
}

// renderConfigTables renders every setting, from the configuration structs and
// source.Table, as the README's configuration tables.
func renderConfigTables(t *testing.T) string {
	var b strings.Builder
	all := allSettings()
	seen := 0
	for i, sec := range readmeSections {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "#### %s\n\n| variable | default | meaning |\n|---|---|---|\n", sec.title)
		for _, s := range all {
			if sectionOf(s.key) != sec.key {
				continue
			}
			seen++
			def := ""
			if s.def != "" {
				def = "`" + s.def + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.key, def, s.desc)
		}
	}
	b.WriteString("\n")
	if seen != len(all) {
		t.Fatalf("%d settings are in no README section; add their section to readmeSections", len(all)-seen)
	}
	return b.String()
}

// TestReadmeGenerated keeps the README's stream table and configuration
// tables generated from source.Table and the configuration structs: run it
// with -update after changing a stream or a setting.
func TestReadmeGenerated(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	stale := false
	for _, block := range readmeBlocks {
		beginMark, endMark := markers(block.name)
		begin, end := strings.Index(readme, beginMark), strings.Index(readme, endMark)
		if begin < 0 || end < begin {
			t.Fatalf("README.md lacks the markers %q and %q", beginMark, endMark)
		}
		want := block.render(t)
		got := readme[begin+len(beginMark) : end]
		if got == want {
			continue
		}
		stale = true
		if !*update {
			t.Errorf("README.md's generated %s block is out of date with the code;\n"+
				"run: go test ./cmd/tvmkafka -run TestReadmeGenerated -update\n\nfirst difference:\n%s", block.name, firstDiff(got, want))
			continue
		}
		readme = readme[:begin+len(beginMark)] + want + readme[end:]
	}
	if stale && *update {
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md rewritten")
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\n  README: %s\n  code:   %s", i+1, gl, wl)
		}
	}
	return ""
}
