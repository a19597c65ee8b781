package tenablesim

import (
	"net/http"
	"time"
)

// AssetFindings is the ground truth of one asset's findings, as
// GET /_sim/truth/asset/{id} shows it. A deleted or terminated asset keeps
// its findings as they were when it went, although exports no longer show
// them (as Tenable's do not): what was open then is what an integration must
// close itself.
type AssetFindings struct {
	AssetUUID    string              `json:"asset_uuid"`
	DeletedAt    *time.Time          `json:"deleted_at,omitempty"`
	TerminatedAt *time.Time          `json:"terminated_at,omitempty"`
	Vulns        []VulnFinding       `json:"vulns"`
	Compliance   []ComplianceFinding `json:"compliance"`
}

// VulnFinding is one vulnerability finding of an asset.
type VulnFinding struct {
	PluginID int    `json:"plugin_id"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	State    string `json:"state"`
	Severity string `json:"severity"`
}

// ComplianceFinding is one compliance finding of an asset.
type ComplianceFinding struct {
	CheckID string `json:"check_id"`
	Status  string `json:"status"`
	State   string `json:"state"`
}

// Open reports whether the finding was open (not FIXED).
func (f VulnFinding) Open() bool { return f.State != "FIXED" }

// Open reports whether the compliance finding was open (state not FIXED).
func (f ComplianceFinding) Open() bool { return f.State != "FIXED" }

// AssetFindings returns the findings of the asset with the given UUID, live or
// gone; false when the tenant never had it.
func (s *Server) AssetFindings(id string) (AssetFindings, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.t.assets {
		if a.id != id {
			continue
		}
		out := AssetFindings{AssetUUID: a.id, Vulns: []VulnFinding{}, Compliance: []ComplianceFinding{}}
		if a.deleted != 0 {
			t := timeOf(a.deleted)
			out.DeletedAt = &t
		}
		if a.terminated != 0 {
			t := timeOf(a.terminated)
			out.TerminatedAt = &t
		}
		for i := range a.findings {
			f := &a.findings[i]
			out.Vulns = append(out.Vulns, VulnFinding{PluginID: int(s.t.pluginByIndex(f.plugin)), Port: int(f.port),
				Protocol: protoNames[f.proto], State: stateNames[f.state], Severity: severityNames[f.sev]})
		}
		for i := range a.compliance {
			c := &a.compliance[i]
			out.Compliance = append(out.Compliance, ComplianceFinding{CheckID: s.w.checks[c.audit][c.check].checkID,
				Status: compStatusNames[c.status], State: stateNames[c.state]})
		}
		return out, true
	}
	return AssetFindings{}, false
}

func (t *tenant) pluginByIndex(i int32) int64 { return int64(t.plugins[i].id) }

func (s *Server) handleSimAssetFindings(w http.ResponseWriter, r *http.Request) {
	f, ok := s.AssetFindings(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such asset"})
		return
	}
	writeJSON(w, http.StatusOK, f)
}
