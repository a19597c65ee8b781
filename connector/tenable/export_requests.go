package tenable

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// Ranges Tenable documents for export sizes. Asset chunk_size outside its range is
// refused with 400; the others are clamped by Tenable, which would silently change
// what the caller asked for, so the client refuses them all before sending.
const (
	MinAssetChunkSize          = 100
	MaxAssetChunkSize          = 10000
	MaxAssetChunkSizeWithRTags = 1000 // with include_resource_tags
	MinVulnNumAssets           = 50
	MaxVulnNumAssets           = 5000
	MinComplianceNumFindings   = 50
	MaxComplianceNumFindings   = 10000
	MaxComplianceAssets        = 200
	MaxVulnCVEIDs              = 200
)

// AssetExportRequest is the body of POST /assets/export (the v1, flat record model).
type AssetExportRequest struct {
	// ChunkSize is the number of assets per chunk, 100-10000 (at most 1000 with
	// IncludeResourceTags). Tenable advises at most 5000.
	ChunkSize           int
	IncludeOpenPorts    bool
	IncludeResourceTags bool
	Filters             AssetFilters
}

// AssetFilters are the v1 asset export filters. Zero values are not sent. Times
// mean "later than"; they are sent as Unix seconds.
type AssetFilters struct {
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	TerminatedAt              time.Time
	DeletedAt                 time.Time
	FirstScanTime             time.Time
	LastAuthenticatedScanTime time.Time
	LastAssessed              time.Time
	IsTerminated              *bool
	IsDeleted                 *bool
	IsLicensed                *bool
	HasPluginResults          *bool
	ServiceNowSysID           *bool
	LastScanID                string
	NetworkID                 string
	// Sources are case-sensitive source names (AWS, NESSUS_AGENT, ...), ORed.
	Sources []string
	// Tags maps a tag category to accepted values: ANDed across categories, ORed
	// across values. Sent as "tag.<category>": [values...].
	Tags map[string][]string
}

// AssetExportV2Request is the body of POST /assets/v2/export (nested record model).
// v2 adds Since and Types and has no tag filter.
type AssetExportV2Request struct {
	ChunkSize           int
	IncludeOpenPorts    bool
	IncludeResourceTags bool
	Filters             AssetV2Filters
}

// AssetV2Filters are the v2 asset export filters.
type AssetV2Filters struct {
	// Since selects assets updated, deleted or terminated after this time.
	Since time.Time
	// Types is "host" (default) and/or "webapp".
	Types                     []string
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	TerminatedAt              time.Time
	DeletedAt                 time.Time
	FirstScanTime             time.Time
	LastAuthenticatedScanTime time.Time
	LastAssessed              time.Time
	IsTerminated              *bool
	IsDeleted                 *bool
	IsLicensed                *bool
	HasPluginResults          *bool
	ServiceNowSysID           *bool
	LastScanID                string
	NetworkID                 string
	Sources                   []string
}

// VulnExportRequest is the body of POST /vulns/export.
type VulnExportRequest struct {
	// NumAssets is the number of assets per chunk (a chunk holds all their
	// findings), 50-5000.
	NumAssets int
	// IncludeUnlicensed adds findings of unlicensed assets (Tenable's default: false).
	IncludeUnlicensed    *bool
	IncludeSoftwareVulns bool
	Filters              VulnFilters
}

// VulnFilters are the vulnerability export filters. Zero values are not sent.
//
// Without any time filter Tenable exports only findings found or fixed in the last
// 30 days. Since cannot be combined with FirstFound, LastFound or LastFixed, and
// those three require State.
type VulnFilters struct {
	// Since: OPEN/REOPENED findings last found at or after it, and FIXED findings
	// fixed at or after it (see State).
	Since          time.Time
	FirstFound     time.Time
	LastFound      time.Time
	LastFixed      time.Time
	IndexedAt      time.Time
	ResurfacedDate time.Time
	TimeTakenToFix *Range
	// State: OPEN, REOPENED, FIXED. Omitted means OPEN and REOPENED.
	State []string
	// Severity: info, low, medium, high, critical.
	Severity                      []string
	SeverityModificationType      []string
	PluginID                      []int
	PluginFamily                  []string
	PluginType                    string
	ScanUUID                      string
	CIDRRange                     string
	NetworkID                     string
	Source                        []string
	Tags                          map[string][]string
	VPRScore                      *ScoreFilter
	VPRV2Score                    *ScoreFilter
	CVSS4BaseScore                *ScoreFilter
	EPSSScore                     *ScoreFilter
	CVEID                         []string
	CVECategory                   []string
	ExploitMaturity               []string
	VPRThreatIntensity            []string
	Weaponization                 []string
	InitiativeID                  string
	ZeroDay                       *bool
	SoftwareVulnsPotential        *bool
	SoftwareVulnsPotentialReasons []string
}

// Range is an inclusive range of integers (seconds for time_taken_to_fix).
type Range struct {
	GTE *int64 `json:"gte,omitzero"`
	LTE *int64 `json:"lte,omitzero"`
}

// ScoreFilter filters a score: Eq/Neq lists, or a range with Gt/Gte/Lt/Lte.
// Eq cannot be combined with a range.
type ScoreFilter struct {
	Eq  []float64 `json:"eq,omitzero"`
	Neq []float64 `json:"neq,omitzero"`
	Gt  *float64  `json:"gt,omitzero"`
	Gte *float64  `json:"gte,omitzero"`
	Lt  *float64  `json:"lt,omitzero"`
	Lte *float64  `json:"lte,omitzero"`
}

// ComplianceExportRequest is the body of POST /compliance/export.
type ComplianceExportRequest struct {
	// NumFindings per chunk, 50-10000 (Tenable's default 5000).
	NumFindings int
	// Asset limits the export to these asset UUIDs (at most 200).
	Asset   []string
	Filters ComplianceFilters
}

// ComplianceFilters are the compliance export filters. Zero values are not sent.
type ComplianceFilters struct {
	LastSeen time.Time
	// FirstSeen is only valid together with LastSeen.
	FirstSeen         time.Time
	LastObserved      time.Time
	IndexedAt         time.Time
	Since             time.Time
	AuditName         string
	AuditFileName     string
	ComplianceResults []string
	IPv4Addresses     []string
	IPv6Addresses     []string
	NetworkID         string
	PluginID          []int
	State             []string
	Tags              []ComplianceTag
}

// ComplianceTag is one tag filter of a compliance export, in the documented list form.
type ComplianceTag struct {
	Category string   `json:"category"`
	Values   []string `json:"values"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func tagFilters(tags map[string][]string) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string][]string, len(tags))
	for cat, values := range tags {
		out["tag."+cat] = values
	}
	return out
}

// marshalDeterministic sorts map keys so identical requests have identical bodies,
// which is how Tenable spots duplicate exports.
func marshalDeterministic(v any) ([]byte, error) { return json.Marshal(v, json.Deterministic(true)) }

type assetFiltersWire struct {
	Since                     int64               `json:"since,omitzero"`
	Types                     []string            `json:"types,omitzero"`
	CreatedAt                 int64               `json:"created_at,omitzero"`
	UpdatedAt                 int64               `json:"updated_at,omitzero"`
	TerminatedAt              int64               `json:"terminated_at,omitzero"`
	IsTerminated              *bool               `json:"is_terminated,omitzero"`
	DeletedAt                 int64               `json:"deleted_at,omitzero"`
	IsDeleted                 *bool               `json:"is_deleted,omitzero"`
	IsLicensed                *bool               `json:"is_licensed,omitzero"`
	FirstScanTime             int64               `json:"first_scan_time,omitzero"`
	LastAuthenticatedScanTime int64               `json:"last_authenticated_scan_time,omitzero"`
	LastAssessed              int64               `json:"last_assessed,omitzero"`
	LastScanID                string              `json:"last_scan_id,omitzero"`
	HasPluginResults          *bool               `json:"has_plugin_results,omitzero"`
	NetworkID                 string              `json:"network_id,omitzero"`
	ServiceNowSysID           *bool               `json:"servicenow_sysid,omitzero"`
	Sources                   []string            `json:"sources,omitzero"`
	Tags                      map[string][]string `json:",embed"`
}

type assetExportWire struct {
	ChunkSize           int              `json:"chunk_size"`
	IncludeOpenPorts    bool             `json:"include_open_ports,omitzero"`
	IncludeResourceTags bool             `json:"include_resource_tags,omitzero"`
	Filters             assetFiltersWire `json:"filters,omitzero"`
}

func validateAssetChunk(chunkSize int, resourceTags bool) error {
	maxSize := MaxAssetChunkSize
	if resourceTags {
		maxSize = MaxAssetChunkSizeWithRTags
	}
	if chunkSize < MinAssetChunkSize || chunkSize > maxSize {
		return fmt.Errorf("chunk_size %d is outside %d-%d", chunkSize, MinAssetChunkSize, maxSize)
	}
	return nil
}

// Validate checks the request against Tenable's documented limits.
func (r AssetExportRequest) Validate() error {
	var errs []error
	if err := validateAssetChunk(r.ChunkSize, r.IncludeResourceTags); err != nil {
		errs = append(errs, err)
	}
	for cat, values := range r.Filters.Tags {
		if strings.TrimSpace(cat) == "" || len(values) == 0 {
			errs = append(errs, fmt.Errorf("tag filter %q needs a category and at least one value", cat))
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON renders the documented wire form.
func (r AssetExportRequest) MarshalJSON() ([]byte, error) {
	f := r.Filters
	return marshalDeterministic(assetExportWire{
		ChunkSize: r.ChunkSize, IncludeOpenPorts: r.IncludeOpenPorts, IncludeResourceTags: r.IncludeResourceTags,
		Filters: assetFiltersWire{
			CreatedAt: unix(f.CreatedAt), UpdatedAt: unix(f.UpdatedAt), TerminatedAt: unix(f.TerminatedAt),
			IsTerminated: f.IsTerminated, DeletedAt: unix(f.DeletedAt), IsDeleted: f.IsDeleted, IsLicensed: f.IsLicensed,
			FirstScanTime: unix(f.FirstScanTime), LastAuthenticatedScanTime: unix(f.LastAuthenticatedScanTime),
			LastAssessed: unix(f.LastAssessed), LastScanID: f.LastScanID, HasPluginResults: f.HasPluginResults,
			NetworkID: f.NetworkID, ServiceNowSysID: f.ServiceNowSysID, Sources: f.Sources, Tags: tagFilters(f.Tags),
		},
	})
}

// Validate checks the request against Tenable's documented limits.
func (r AssetExportV2Request) Validate() error {
	var errs []error
	if err := validateAssetChunk(r.ChunkSize, r.IncludeResourceTags); err != nil {
		errs = append(errs, err)
	}
	for _, t := range r.Filters.Types {
		if t != "host" && t != "webapp" {
			errs = append(errs, fmt.Errorf("asset type %q is not host or webapp", t))
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON renders the documented wire form.
func (r AssetExportV2Request) MarshalJSON() ([]byte, error) {
	f := r.Filters
	return marshalDeterministic(assetExportWire{
		ChunkSize: r.ChunkSize, IncludeOpenPorts: r.IncludeOpenPorts, IncludeResourceTags: r.IncludeResourceTags,
		Filters: assetFiltersWire{
			Since: unix(f.Since), Types: f.Types,
			CreatedAt: unix(f.CreatedAt), UpdatedAt: unix(f.UpdatedAt), TerminatedAt: unix(f.TerminatedAt),
			IsTerminated: f.IsTerminated, DeletedAt: unix(f.DeletedAt), IsDeleted: f.IsDeleted, IsLicensed: f.IsLicensed,
			FirstScanTime: unix(f.FirstScanTime), LastAuthenticatedScanTime: unix(f.LastAuthenticatedScanTime),
			LastAssessed: unix(f.LastAssessed), LastScanID: f.LastScanID, HasPluginResults: f.HasPluginResults,
			NetworkID: f.NetworkID, ServiceNowSysID: f.ServiceNowSysID, Sources: f.Sources,
		},
	})
}

type vulnFiltersWire struct {
	Since                         int64               `json:"since,omitzero"`
	FirstFound                    int64               `json:"first_found,omitzero"`
	LastFound                     int64               `json:"last_found,omitzero"`
	LastFixed                     int64               `json:"last_fixed,omitzero"`
	IndexedAt                     int64               `json:"indexed_at,omitzero"`
	ResurfacedDate                int64               `json:"resurfaced_date,omitzero"`
	TimeTakenToFix                *Range              `json:"time_taken_to_fix,omitzero"`
	State                         []string            `json:"state,omitzero"`
	Severity                      []string            `json:"severity,omitzero"`
	SeverityModificationType      []string            `json:"severity_modification_type,omitzero"`
	PluginID                      []int               `json:"plugin_id,omitzero"`
	PluginFamily                  []string            `json:"plugin_family,omitzero"`
	PluginType                    string              `json:"plugin_type,omitzero"`
	ScanUUID                      string              `json:"scan_uuid,omitzero"`
	CIDRRange                     string              `json:"cidr_range,omitzero"`
	NetworkID                     string              `json:"network_id,omitzero"`
	Source                        []string            `json:"source,omitzero"`
	VPRScore                      *ScoreFilter        `json:"vpr_score,omitzero"`
	VPRV2Score                    *ScoreFilter        `json:"vpr_v2_score,omitzero"`
	CVSS4BaseScore                *ScoreFilter        `json:"cvss4_base_score,omitzero"`
	EPSSScore                     *ScoreFilter        `json:"epss_score,omitzero"`
	CVEID                         []string            `json:"cve_id,omitzero"`
	CVECategory                   []string            `json:"cve_category,omitzero"`
	ExploitMaturity               []string            `json:"exploit_maturity,omitzero"`
	VPRThreatIntensity            []string            `json:"vpr_threat_intensity,omitzero"`
	Weaponization                 []string            `json:"weaponization,omitzero"`
	InitiativeID                  string              `json:"initiative_id,omitzero"`
	ZeroDay                       *bool               `json:"zero_day,omitzero"`
	SoftwareVulnsPotential        *bool               `json:"software_vulns_potential,omitzero"`
	SoftwareVulnsPotentialReasons []string            `json:"software_vulns_potential_reasons,omitzero"`
	Tags                          map[string][]string `json:",embed"`
}

type vulnExportWire struct {
	NumAssets            int             `json:"num_assets"`
	IncludeUnlicensed    *bool           `json:"include_unlicensed,omitzero"`
	IncludeSoftwareVulns bool            `json:"include_software_vulns,omitzero"`
	Filters              vulnFiltersWire `json:"filters,omitzero"`
}

var (
	vulnStates     = []string{"OPEN", "REOPENED", "FIXED"}
	vulnSeverities = []string{"info", "low", "medium", "high", "critical"}
	modTypes       = []string{"NONE", "RECASTED", "ACCEPTED"}
	complianceRes  = []string{"PASSED", "FAILED", "WARNING", "SKIPPED", "ERROR", "UNKNOWN"}
)

func checkEnum(field string, values []string, allowed []string, fold bool, errs *[]error) {
	for _, v := range values {
		ok := false
		for _, a := range allowed {
			if v == a || (fold && strings.EqualFold(v, a)) {
				ok = true
				break
			}
		}
		if !ok {
			*errs = append(*errs, fmt.Errorf("%s %q is not one of %s", field, v, strings.Join(allowed, ", ")))
		}
	}
}

func (s *ScoreFilter) validate(name string, lo, hi float64, errs *[]error) {
	if s == nil {
		return
	}
	hasRange := s.Gt != nil || s.Gte != nil || s.Lt != nil || s.Lte != nil
	if len(s.Eq) > 0 && hasRange {
		*errs = append(*errs, fmt.Errorf("%s: eq cannot be combined with gt/gte/lt/lte", name))
	}
	if len(s.Eq) == 0 && len(s.Neq) == 0 && !hasRange {
		*errs = append(*errs, fmt.Errorf("%s: empty score filter", name))
	}
	check := func(v float64) {
		if v < lo || v > hi {
			*errs = append(*errs, fmt.Errorf("%s: %g is outside %g-%g", name, v, lo, hi))
		}
	}
	for _, v := range append(append([]float64{}, s.Eq...), s.Neq...) {
		check(v)
	}
	for _, p := range []*float64{s.Gt, s.Gte, s.Lt, s.Lte} {
		if p != nil {
			check(*p)
		}
	}
}

// Validate checks the request against Tenable's documented limits and filter rules.
func (r VulnExportRequest) Validate() error {
	var errs []error
	f := r.Filters
	if r.NumAssets < MinVulnNumAssets || r.NumAssets > MaxVulnNumAssets {
		errs = append(errs, fmt.Errorf("num_assets %d is outside %d-%d", r.NumAssets, MinVulnNumAssets, MaxVulnNumAssets))
	}
	if !f.Since.IsZero() && (!f.FirstFound.IsZero() || !f.LastFound.IsZero() || !f.LastFixed.IsZero()) {
		errs = append(errs, errors.New("since cannot be combined with first_found, last_found or last_fixed"))
	}
	if (!f.FirstFound.IsZero() || !f.LastFound.IsZero() || !f.LastFixed.IsZero()) && len(f.State) == 0 {
		errs = append(errs, errors.New("state is required with first_found, last_found or last_fixed"))
	}
	checkEnum("state", f.State, vulnStates, true, &errs)
	checkEnum("severity", f.Severity, vulnSeverities, true, &errs)
	checkEnum("severity_modification_type", f.SeverityModificationType, modTypes, false, &errs)
	if len(f.CVEID) > MaxVulnCVEIDs {
		errs = append(errs, fmt.Errorf("cve_id has %d IDs, at most %d are allowed", len(f.CVEID), MaxVulnCVEIDs))
	}
	f.VPRScore.validate("vpr_score", 0.1, 10, &errs)
	f.VPRV2Score.validate("vpr_v2_score", 0.1, 10, &errs)
	f.CVSS4BaseScore.validate("cvss4_base_score", 0, 10, &errs)
	f.EPSSScore.validate("epss_score", 0, 100, &errs)
	if f.InitiativeID != "" {
		if !f.FirstFound.IsZero() || !f.LastFound.IsZero() || !f.LastFixed.IsZero() || len(f.PluginID) > 0 ||
			len(f.PluginFamily) > 0 || f.PluginType != "" || len(f.Tags) > 0 || len(f.CVEID) > 0 || f.CIDRRange != "" {
			errs = append(errs, errors.New("initiative_id can only be combined with indexed_at, since, severity, state or severity_modification_type"))
		}
	}
	for cat, values := range f.Tags {
		if strings.TrimSpace(cat) == "" || len(values) == 0 {
			errs = append(errs, fmt.Errorf("tag filter %q needs a category and at least one value", cat))
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON renders the documented wire form; states are sent upper-case and
// severities lower-case, as Tenable echoes them.
func (r VulnExportRequest) MarshalJSON() ([]byte, error) {
	f := r.Filters
	return marshalDeterministic(vulnExportWire{
		NumAssets: r.NumAssets, IncludeUnlicensed: r.IncludeUnlicensed, IncludeSoftwareVulns: r.IncludeSoftwareVulns,
		Filters: vulnFiltersWire{
			Since: unix(f.Since), FirstFound: unix(f.FirstFound), LastFound: unix(f.LastFound), LastFixed: unix(f.LastFixed),
			IndexedAt: unix(f.IndexedAt), ResurfacedDate: unix(f.ResurfacedDate), TimeTakenToFix: f.TimeTakenToFix,
			State: mapStrings(f.State, strings.ToUpper), Severity: mapStrings(f.Severity, strings.ToLower),
			SeverityModificationType: f.SeverityModificationType, PluginID: f.PluginID, PluginFamily: f.PluginFamily,
			PluginType: f.PluginType, ScanUUID: f.ScanUUID, CIDRRange: f.CIDRRange, NetworkID: f.NetworkID, Source: f.Source,
			VPRScore: f.VPRScore, VPRV2Score: f.VPRV2Score, CVSS4BaseScore: f.CVSS4BaseScore, EPSSScore: f.EPSSScore,
			CVEID: f.CVEID, CVECategory: f.CVECategory, ExploitMaturity: f.ExploitMaturity,
			VPRThreatIntensity: f.VPRThreatIntensity, Weaponization: f.Weaponization, InitiativeID: f.InitiativeID,
			ZeroDay: f.ZeroDay, SoftwareVulnsPotential: f.SoftwareVulnsPotential,
			SoftwareVulnsPotentialReasons: f.SoftwareVulnsPotentialReasons, Tags: tagFilters(f.Tags),
		},
	})
}

func mapStrings(in []string, fn func(string) string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = fn(s)
	}
	return out
}

type complianceFiltersWire struct {
	LastSeen          int64           `json:"last_seen,omitzero"`
	FirstSeen         int64           `json:"first_seen,omitzero"`
	LastObserved      int64           `json:"last_observed,omitzero"`
	IndexedAt         int64           `json:"indexed_at,omitzero"`
	Since             int64           `json:"since,omitzero"`
	AuditName         string          `json:"audit_name,omitzero"`
	AuditFileName     string          `json:"audit_file_name,omitzero"`
	ComplianceResults []string        `json:"compliance_results,omitzero"`
	IPv4Addresses     []string        `json:"ipv4_addresses,omitzero"`
	IPv6Addresses     []string        `json:"ipv6_addresses,omitzero"`
	NetworkID         string          `json:"network_id,omitzero"`
	PluginID          []int           `json:"plugin_id,omitzero"`
	State             []string        `json:"state,omitzero"`
	Tags              []ComplianceTag `json:"tags,omitzero"`
}

type complianceExportWire struct {
	NumFindings int                   `json:"num_findings"`
	Asset       []string              `json:"asset,omitzero"`
	Filters     complianceFiltersWire `json:"filters"` // a body is mandatory (415 without)
}

// Validate checks the request against Tenable's documented limits and filter rules.
func (r ComplianceExportRequest) Validate() error {
	var errs []error
	f := r.Filters
	if r.NumFindings < MinComplianceNumFindings || r.NumFindings > MaxComplianceNumFindings {
		errs = append(errs, fmt.Errorf("num_findings %d is outside %d-%d", r.NumFindings, MinComplianceNumFindings, MaxComplianceNumFindings))
	}
	if len(r.Asset) > MaxComplianceAssets {
		errs = append(errs, fmt.Errorf("asset lists %d UUIDs, at most %d are allowed", len(r.Asset), MaxComplianceAssets))
	}
	if !f.FirstSeen.IsZero() && f.LastSeen.IsZero() {
		errs = append(errs, errors.New("first_seen is only valid together with last_seen"))
	}
	checkEnum("state", f.State, vulnStates, true, &errs)
	checkEnum("compliance_results", f.ComplianceResults, complianceRes, false, &errs)
	for _, t := range f.Tags {
		if t.Category == "" || len(t.Values) == 0 {
			errs = append(errs, fmt.Errorf("tag filter %q needs a category and at least one value", t.Category))
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON renders the documented wire form.
func (r ComplianceExportRequest) MarshalJSON() ([]byte, error) {
	f := r.Filters
	return marshalDeterministic(complianceExportWire{
		NumFindings: r.NumFindings, Asset: r.Asset,
		Filters: complianceFiltersWire{
			LastSeen: unix(f.LastSeen), FirstSeen: unix(f.FirstSeen), LastObserved: unix(f.LastObserved),
			IndexedAt: unix(f.IndexedAt), Since: unix(f.Since), AuditName: f.AuditName, AuditFileName: f.AuditFileName,
			ComplianceResults: f.ComplianceResults, IPv4Addresses: f.IPv4Addresses, IPv6Addresses: f.IPv6Addresses,
			NetworkID: f.NetworkID, PluginID: f.PluginID, State: mapStrings(f.State, strings.ToUpper), Tags: f.Tags,
		},
	})
}
