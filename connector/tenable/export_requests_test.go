package tenable

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func ptr[T any](v T) *T { return &v }

var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

// TestRequestWireFormat pins the JSON each request type sends against golden files.
func TestRequestWireFormat(t *testing.T) {
	tests := []struct {
		name string
		req  any
	}{
		{"asset_v1_delta_updated", AssetExportRequest{ChunkSize: 4000, Filters: AssetFilters{UpdatedAt: t0}}},
		{"asset_v1_all_filters", AssetExportRequest{ChunkSize: 1000, IncludeOpenPorts: true, IncludeResourceTags: true, Filters: AssetFilters{
			CreatedAt: t1, UpdatedAt: t0, TerminatedAt: t0, DeletedAt: t0, FirstScanTime: t1, LastAuthenticatedScanTime: t1, LastAssessed: t1,
			IsTerminated: ptr(true), IsDeleted: ptr(false), IsLicensed: ptr(true), HasPluginResults: ptr(true), ServiceNowSysID: ptr(false),
			LastScanID: "scan-1", NetworkID: "00000000-0000-0000-0000-000000000000", Sources: []string{"AWS", "NESSUS_AGENT"},
			Tags: map[string][]string{"Location": {"Austin", "Dallas"}, "Owner": {"ops"}},
		}}},
		{"asset_v2_since", AssetExportV2Request{ChunkSize: 100, Filters: AssetV2Filters{Since: t0, Types: []string{"host", "webapp"}}}},
		{"vuln_delta_all_states", VulnExportRequest{NumAssets: 2000, IncludeUnlicensed: ptr(true), Filters: VulnFilters{
			Since: t0, State: []string{"open", "Reopened", "FIXED"}, Severity: []string{"MEDIUM", "high", "critical"},
		}}},
		{"vuln_many_filters", VulnExportRequest{NumAssets: 50, IncludeSoftwareVulns: true, Filters: VulnFilters{
			FirstFound: t1, LastFixed: t0, State: []string{"FIXED"}, PluginID: []int{19506, 10180}, PluginFamily: []string{"General"},
			CIDRRange: "10.0.0.0/8", Tags: map[string][]string{"Env": {"prod"}}, VPRScore: &ScoreFilter{Gte: ptr(7.0)},
			EPSSScore: &ScoreFilter{Eq: []float64{90}}, CVEID: []string{"CVE-2024-0001"}, TimeTakenToFix: &Range{GTE: ptr(int64(3600))},
		}}},
		{"compliance_last_seen", ComplianceExportRequest{NumFindings: 5000, Filters: ComplianceFilters{LastSeen: t0}}},
		{"compliance_empty_filters", ComplianceExportRequest{NumFindings: 50}},
		{"compliance_tags_and_assets", ComplianceExportRequest{NumFindings: 100, Asset: []string{"a-1"}, Filters: ComplianceFilters{
			LastSeen: t0, FirstSeen: t1, State: []string{"open"}, ComplianceResults: []string{"FAILED"},
			Tags: []ComplianceTag{{Category: "Office", Values: []string{"Dallas"}}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			indented := jsontext.Value(bytes.Clone(got))
			if err := indented.Indent(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "requests", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(indented, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(want) != string(indented)+"\n" {
				t.Errorf("wire JSON differs from %s:\ngot:\n%s\nwant:\n%s", path, indented, want)
			}
			// Identical requests must have identical bodies: Tenable spots duplicates that way.
			again, _ := json.Marshal(tt.req)
			if !bytes.Equal(got, again) {
				t.Error("marshalling twice gave different bytes")
			}
		})
	}
}

func TestRequestValidation(t *testing.T) {
	tests := []struct {
		name    string
		req     validator
		wantErr string // "" = valid
	}{
		{"asset chunk too small", AssetExportRequest{ChunkSize: 99}, "chunk_size 99 is outside 100-10000"},
		{"asset chunk too large", AssetExportRequest{ChunkSize: 10001}, "outside 100-10000"},
		{"asset chunk with resource tags", AssetExportRequest{ChunkSize: 1001, IncludeResourceTags: true}, "outside 100-1000"},
		{"asset chunk bounds ok", AssetExportRequest{ChunkSize: 10000}, ""},
		{"asset empty tag", AssetExportRequest{ChunkSize: 100, Filters: AssetFilters{Tags: map[string][]string{"X": nil}}}, "needs a category and at least one value"},
		{"asset v2 bad type", AssetExportV2Request{ChunkSize: 100, Filters: AssetV2Filters{Types: []string{"container"}}}, "not host or webapp"},
		{"vuln num_assets low", VulnExportRequest{NumAssets: 49}, "num_assets 49 is outside 50-5000"},
		{"vuln num_assets high", VulnExportRequest{NumAssets: 5001}, "outside 50-5000"},
		{"vuln since with first_found", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{Since: t0, FirstFound: t1, State: []string{"OPEN"}}}, "since cannot be combined"},
		{"vuln last_found needs state", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{LastFound: t0}}, "state is required"},
		{"vuln bad state", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{State: []string{"CLOSED"}}}, `state "CLOSED"`},
		{"vuln bad severity", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{Severity: []string{"urgent"}}}, `severity "urgent"`},
		{"vuln vpr eq with range", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{VPRScore: &ScoreFilter{Eq: []float64{5}, Gt: ptr(1.0)}}}, "eq cannot be combined"},
		{"vuln vpr out of range", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{VPRScore: &ScoreFilter{Gte: ptr(11.0)}}}, "outside 0.1-10"},
		{"vuln too many CVEs", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{CVEID: make([]string, 201)}}, "at most 200"},
		{"vuln initiative with plugin", VulnExportRequest{NumAssets: 50, Filters: VulnFilters{InitiativeID: "i", PluginID: []int{1}}}, "initiative_id can only"},
		{"vuln ok", VulnExportRequest{NumAssets: 2000, Filters: VulnFilters{Since: t0, State: []string{"open", "fixed"}}}, ""},
		{"compliance num_findings low", ComplianceExportRequest{NumFindings: 10}, "num_findings 10 is outside 50-10000"},
		{"compliance first_seen alone", ComplianceExportRequest{NumFindings: 50, Filters: ComplianceFilters{FirstSeen: t0}}, "first_seen is only valid together with last_seen"},
		{"compliance too many assets", ComplianceExportRequest{NumFindings: 50, Asset: make([]string, 201)}, "at most 200"},
		{"compliance bad result", ComplianceExportRequest{NumFindings: 50, Filters: ComplianceFilters{ComplianceResults: []string{"passed"}}}, `compliance_results "passed"`},
		{"compliance ok", ComplianceExportRequest{NumFindings: 10000, Filters: ComplianceFilters{LastSeen: t0, FirstSeen: t1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
