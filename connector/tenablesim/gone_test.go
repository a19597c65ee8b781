package tenablesim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGoneAssetsFindings: once an asset is deleted or terminated, later vuln
// and compliance exports hold none of its findings, while its ground truth
// still answers which were open when it went, and stays as it was.
func TestGoneAssetsFindings(t *testing.T) {
	f := newFixture(t, Config{Assets: 300, Seed: 5})
	before := map[string]bool{}
	for _, k := range assetIDs(mustTruth(t, f.sim, TruthAssets, `{"chunk_size":1000}`)) {
		before[k] = true
	}
	var gone []string
	for range 20 {
		if _, err := f.sim.Advance(30 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		gone = nil
		for _, body := range []string{`{"chunk_size":1000,"filters":{"deleted_at":1}}`, `{"chunk_size":1000,"filters":{"terminated_at":1}}`} {
			for _, k := range assetIDs(mustTruth(t, f.sim, TruthAssets, body)) {
				if before[k] {
					gone = append(gone, k)
				}
			}
		}
		if len(gone) >= 3 {
			break
		}
	}
	if len(gone) < 3 {
		t.Fatalf("only %d assets went in 600 days", len(gone))
	}
	vulns := strings.Join(keyStrings(mustTruth(t, f.sim, TruthVulns, `{"filters":{"since":1,"state":["OPEN","REOPENED","FIXED"]}}`).Keys), "\n")
	comp := strings.Join(keyStrings(mustTruth(t, f.sim, TruthCompliance, `{"filters":{"last_seen":1}}`).Keys), "\n")
	openSeen := 0
	for _, id := range gone {
		af, ok := f.sim.AssetFindings(id)
		if !ok || af.DeletedAt == nil && af.TerminatedAt == nil {
			t.Fatalf("asset %s: %+v %v, want a deleted or terminated asset", id, af, ok)
		}
		if strings.Contains(vulns, id) || strings.Contains(comp, id) {
			t.Errorf("an export still holds findings of gone asset %s", id)
		}
		for _, v := range af.Vulns {
			if v.Open() {
				openSeen++
			}
		}
		// Frozen: time passing changes nothing of a gone asset.
		if _, err := f.sim.Advance(30 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		again, _ := f.sim.AssetFindings(id)
		if !slices.Equal(again.Vulns, af.Vulns) || !slices.Equal(again.Compliance, af.Compliance) {
			t.Errorf("the findings of gone asset %s changed after it went", id)
		}
	}
	if openSeen == 0 {
		t.Error("no gone asset had an open finding")
	}
	// The admin endpoint answers the same.
	r := f.do("GET", "/_sim/truth/asset/"+gone[0], "")
	var af AssetFindings
	if err := json.Unmarshal(r.body, &af); err != nil || r.status != 200 || af.AssetUUID != gone[0] {
		t.Fatalf("GET /_sim/truth/asset: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/_sim/truth/asset/nope", ""); r.status != 404 {
		t.Errorf("unknown asset: %d", r.status)
	}
}

func mustTruth(t *testing.T, s *Server, kind, body string) Truth {
	t.Helper()
	tr, err := s.Truth(kind, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func assetIDs(tr Truth) []string {
	out := make([]string, len(tr.Keys))
	for i, k := range tr.Keys {
		_ = json.Unmarshal(k, &out[i])
	}
	return out
}
