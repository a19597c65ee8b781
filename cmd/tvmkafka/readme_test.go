package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated configuration tables in README.md")

const (
	readmePath  = "../../README.md"
	readmeBegin = "<!-- BEGIN GENERATED CONFIGURATION: go test ./cmd/tvmkafka -run TestReadmeConfiguration -update -->\n"
	readmeEnd   = "<!-- END GENERATED CONFIGURATION -->\n"
)

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

// TestReadmeConfiguration keeps the README's configuration tables generated
// from the code: run it with -update after changing a setting.
func TestReadmeConfiguration(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := strings.Index(readme, readmeBegin), strings.Index(readme, readmeEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q and %q around the configuration tables", readmeBegin, readmeEnd)
	}
	want := renderConfigTables(t)
	got := readme[begin+len(readmeBegin) : end]
	if got == want {
		return
	}
	if *update {
		readme = readme[:begin+len(readmeBegin)] + want + readme[end:]
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md configuration tables rewritten")
		return
	}
	t.Errorf("README.md's configuration tables are out of date with the configuration structs and source.Table;\n"+
		"run: go test ./cmd/tvmkafka -run TestReadmeConfiguration -update\n\nfirst difference:\n%s", firstDiff(got, want))
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
