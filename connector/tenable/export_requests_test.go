package tenable

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
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
	// want is the body each request must send, written out from the request's
	// inputs and the documented field names and formats (Unix seconds, upper-case
	// states, lower-case severities, tag.<category> members, compliance tags as a
	// list of {category, values}), independently of the marshalling code.
	type obj = map[string]any
	tests := []struct {
		name string
		req  any
		want obj
	}{
		{"asset_v1_delta_updated", AssetExportRequest{ChunkSize: 4000, Filters: AssetFilters{UpdatedAt: t0}},
			obj{"chunk_size": 4000, "filters": obj{"updated_at": t0.Unix()}}},
		{"asset_v1_all_filters", AssetExportRequest{ChunkSize: 1000, IncludeOpenPorts: true, IncludeResourceTags: true, Filters: AssetFilters{
			CreatedAt: t1, UpdatedAt: t0, TerminatedAt: t0, DeletedAt: t0, FirstScanTime: t1, LastAuthenticatedScanTime: t1, LastAssessed: t1,
			IsTerminated: ptr(true), IsDeleted: ptr(false), IsLicensed: ptr(true), HasPluginResults: ptr(true), ServiceNowSysID: ptr(false),
			LastScanID: "scan-1", NetworkID: "00000000-0000-0000-0000-000000000000", Sources: []string{"AWS", "NESSUS_AGENT"},
			Tags: map[string][]string{"Location": {"Austin", "Dallas"}, "Owner": {"ops"}},
		}}, obj{"chunk_size": 1000, "include_open_ports": true, "include_resource_tags": true, "filters": obj{
			"created_at": t1.Unix(), "updated_at": t0.Unix(), "terminated_at": t0.Unix(), "deleted_at": t0.Unix(),
			"first_scan_time": t1.Unix(), "last_authenticated_scan_time": t1.Unix(), "last_assessed": t1.Unix(),
			"is_terminated": true, "is_deleted": false, "is_licensed": true, "has_plugin_results": true, "servicenow_sysid": false,
			"last_scan_id": "scan-1", "network_id": "00000000-0000-0000-0000-000000000000", "sources": []string{"AWS", "NESSUS_AGENT"},
			"tag.Location": []string{"Austin", "Dallas"}, "tag.Owner": []string{"ops"},
		}}},
		{"asset_v2_since", AssetExportV2Request{ChunkSize: 100, Filters: AssetV2Filters{Since: t0, Types: []string{"host", "webapp"}}},
			obj{"chunk_size": 100, "filters": obj{"since": t0.Unix(), "types": []string{"host", "webapp"}}}},
		{"vuln_delta_all_states", VulnExportRequest{NumAssets: 2000, IncludeUnlicensed: ptr(true), Filters: VulnFilters{
			Since: t0, State: []string{"open", "Reopened", "FIXED"}, Severity: []string{"MEDIUM", "high", "critical"},
		}}, obj{"num_assets": 2000, "include_unlicensed": true, "filters": obj{
			"since": t0.Unix(), "state": []string{"OPEN", "REOPENED", "FIXED"}, "severity": []string{"medium", "high", "critical"},
		}}},
		{"vuln_many_filters", VulnExportRequest{NumAssets: 50, IncludeSoftwareVulns: true, Filters: VulnFilters{
			FirstFound: t1, LastFixed: t0, State: []string{"FIXED"}, PluginID: []int{19506, 10180}, PluginFamily: []string{"General"},
			CIDRRange: "10.0.0.0/8", Tags: map[string][]string{"Env": {"prod"}}, VPRScore: &ScoreFilter{Gte: ptr(7.0)},
			EPSSScore: &ScoreFilter{Eq: []float64{90}}, CVEID: []string{"CVE-2024-0001"}, TimeTakenToFix: &Range{GTE: ptr(int64(3600))},
		}}, obj{"num_assets": 50, "include_software_vulns": true, "filters": obj{
			"first_found": t1.Unix(), "last_fixed": t0.Unix(), "state": []string{"FIXED"}, "plugin_id": []int{19506, 10180},
			"plugin_family": []string{"General"}, "cidr_range": "10.0.0.0/8", "tag.Env": []string{"prod"}, "vpr_score": obj{"gte": 7},
			"epss_score": obj{"eq": []float64{90}}, "cve_id": []string{"CVE-2024-0001"}, "time_taken_to_fix": obj{"gte": 3600},
		}}},
		{"compliance_last_seen", ComplianceExportRequest{NumFindings: 5000, Filters: ComplianceFilters{LastSeen: t0}},
			obj{"num_findings": 5000, "filters": obj{"last_seen": t0.Unix()}}},
		// A compliance export needs a body; an empty filters object is a valid one.
		{"compliance_empty_filters", ComplianceExportRequest{NumFindings: 50}, obj{"num_findings": 50, "filters": obj{}}},
		{"compliance_tags_and_assets", ComplianceExportRequest{NumFindings: 100, Asset: []string{"a-1"}, Filters: ComplianceFilters{
			LastSeen: t0, FirstSeen: t1, State: []string{"open"}, ComplianceResults: []string{"FAILED"},
			Tags: []ComplianceTag{{Category: "Office", Values: []string{"Dallas"}}},
		}}, obj{"num_findings": 100, "asset": []string{"a-1"}, "filters": obj{
			"last_seen": t0.Unix(), "first_seen": t1.Unix(), "state": []string{"OPEN"}, "compliance_results": []string{"FAILED"},
			"tags": []obj{{"category": "Office", "values": []string{"Dallas"}}},
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
			// The body, read back with encoding/json, must be exactly the
			// documented request built from the inputs: no field missing, none extra.
			var gotBody, wantBody any
			if err := stdjson.Unmarshal(got, &gotBody); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			wb, err := stdjson.Marshal(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if err := stdjson.Unmarshal(wb, &wantBody); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotBody, wantBody) {
				t.Errorf("body is not the documented request:\ngot:  %s\nwant: %s", got, wb)
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
