package tenable

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// The typed records below cover the documented fields of each export's records.
// Tenable is loose with types (the same field arrives as an ISO string or as an
// epoch number, scores as 0 or 0.0), so the scalar types here accept every form
// seen; a missing field leaves its zero value. The source stages do not use these
// types: they transcode the raw JSON straight into Avro so that no field is lost.

// Time is a timestamp sent as an ISO-8601 string, a date, or Unix time in seconds
// or milliseconds. The zero Time means absent or null.
type Time struct{ time.Time }

// epochMillisThreshold tells seconds from milliseconds: 1e11 seconds is the year
// 5138, 1e11 milliseconds is 1973.
const epochMillisThreshold = 1e11

// ParseTime reads the forms Tenable uses for times.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return EpochTime(f), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", time.DateOnly, "2006/01/02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// EpochTime converts Unix seconds, or milliseconds for values of 1e11 and more.
func EpochTime(v float64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	if math.Abs(v) >= epochMillisThreshold {
		return time.UnixMilli(int64(v)).UTC()
	}
	// Fractions are kept to the microsecond: float seconds cannot carry more, and
	// rounding keeps 1653750723.336 at .336 instead of .335999965.
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// UnmarshalJSON accepts a string, a number or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		t.Time = time.Time{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseTime(s)
		t.Time = v
		return err
	default:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("time %s: %w", b, err)
		}
		t.Time = EpochTime(f)
		return nil
	}
}

// MarshalJSON writes RFC 3339, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(time.RFC3339Nano) + `"`), nil
}

// Float is a number sent as an integer, a float or a numeric string.
type Float float64

// UnmarshalJSON accepts a number, a numeric string or null.
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := parseLooseNumber(b)
	*f = Float(v)
	return err
}

// Int is an integer sent as an integer, an integral float or a numeric string.
type Int int64

// UnmarshalJSON accepts an integer, an integral float, a numeric string or null.
func (i *Int) UnmarshalJSON(b []byte) error {
	v, err := parseLooseNumber(b)
	if err != nil {
		return err
	}
	if v != math.Trunc(v) {
		return fmt.Errorf("%s is not an integer", b)
	}
	*i = Int(v)
	return nil
}

func parseLooseNumber(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return 0, nil
	}
	if b[0] == '"' {
		b = bytes.Trim(b, `"`)
		if len(b) == 0 {
			return 0, nil
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s: %w", b, err)
	}
	return v, nil
}

// Vuln is one finding of a vulnerability export: an asset x plugin x port.
type Vuln struct {
	Asset                    VulnAsset  `json:"asset"`
	Plugin                   VulnPlugin `json:"plugin"`
	Port                     VulnPort   `json:"port"`
	Scan                     VulnScan   `json:"scan"`
	Output                   string     `json:"output"`
	Severity                 string     `json:"severity"`
	SeverityID               Int        `json:"severity_id"`
	SeverityDefaultID        Int        `json:"severity_default_id"`
	SeverityModificationType string     `json:"severity_modification_type"`
	RecastReason             string     `json:"recast_reason"`
	RecastRuleUUID           string     `json:"recast_rule_uuid"`
	State                    string     `json:"state"`
	FirstFound               Time       `json:"first_found"`
	LastFound                Time       `json:"last_found"`
	LastFixed                Time       `json:"last_fixed"`
	ResurfacedDate           Time       `json:"resurfaced_date"`
	Indexed                  Time       `json:"indexed"`
	Source                   string     `json:"source"`
	FindingID                string     `json:"finding_id"`
	TimeTakenToFix           Int        `json:"time_taken_to_fix"`
}

// VulnAsset is Tenable's best guess of the asset at the time of the finding; only
// UUID is authoritative. Unlike asset exports, these are single strings.
type VulnAsset struct {
	UUID                       string   `json:"uuid"`
	Hostname                   string   `json:"hostname"`
	FQDN                       string   `json:"fqdn"`
	IPv4                       string   `json:"ipv4"`
	IPv6                       string   `json:"ipv6"`
	MACAddress                 string   `json:"mac_address"`
	NetBIOSName                string   `json:"netbios_name"`
	NetBIOSWorkgroup           string   `json:"netbios_workgroup"`
	OperatingSystem            []string `json:"operating_system"`
	DeviceType                 string   `json:"device_type"`
	BIOSUUID                   string   `json:"bios_uuid"`
	AgentUUID                  string   `json:"agent_uuid"`
	NetworkID                  string   `json:"network_id"`
	SerialNumber               string   `json:"serial_number"`
	Tracked                    bool     `json:"tracked"`
	LastAuthenticatedResults   Time     `json:"last_authenticated_results"`
	LastUnauthenticatedResults Time     `json:"last_unauthenticated_results"`
}

// VulnPlugin is the plugin as of the finding's last observation.
type VulnPlugin struct {
	ID                   Int      `json:"id"`
	Name                 string   `json:"name"`
	Family               string   `json:"family"`
	FamilyID             Int      `json:"family_id"`
	Type                 string   `json:"type"`
	Version              string   `json:"version"`
	Description          string   `json:"description"`
	Synopsis             string   `json:"synopsis"`
	Solution             string   `json:"solution"`
	SeeAlso              []string `json:"see_also"`
	RiskFactor           string   `json:"risk_factor"`
	PublicationDate      Time     `json:"publication_date"`
	ModificationDate     Time     `json:"modification_date"`
	PatchPublicationDate Time     `json:"patch_publication_date"`
	VulnPublicationDate  Time     `json:"vuln_publication_date"`
	HasPatch             bool     `json:"has_patch"`
	ExploitAvailable     bool     `json:"exploit_available"`
	ExploitedByMalware   bool     `json:"exploited_by_malware"`
	CVE                  []string `json:"cve"`
	CPE                  []string `json:"cpe"`
	CVSSBaseScore        *Float   `json:"cvss_base_score"`
	CVSSTemporalScore    *Float   `json:"cvss_temporal_score"`
	CVSS3BaseScore       *Float   `json:"cvss3_base_score"`
	CVSS3TemporalScore   *Float   `json:"cvss3_temporal_score"`
	CVSS4BaseScore       *Float   `json:"cvss4_base_score"`
	EPSSScore            *Float   `json:"epss_score"`
	VPR                  *VPR     `json:"vpr"`
	Xrefs                []Xref   `json:"xrefs"`
}

// VPR is Tenable's Vulnerability Priority Rating.
type VPR struct {
	Score   *Float `json:"score"`
	Updated Time   `json:"updated"`
}

// Xref is a cross reference of a plugin.
type Xref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// VulnPort is where the finding was observed; port 0 is a host-level finding.
type VulnPort struct {
	Port     Int    `json:"port"`
	Protocol string `json:"protocol"`
	Service  string `json:"service"`
}

// VulnScan is the scan that last observed the finding.
type VulnScan struct {
	UUID           string `json:"uuid"`
	ScheduleUUID   string `json:"schedule_uuid"`
	StartedAt      Time   `json:"started_at"`
	CompletedAt    Time   `json:"completed_at"`
	LastScanTarget string `json:"last_scan_target"`
}

// Asset is a record of an asset export (v1 flat model).
type Asset struct {
	ID               string        `json:"id"`
	HasAgent         bool          `json:"has_agent"`
	HasPluginResults *bool         `json:"has_plugin_results"`
	CreatedAt        Time          `json:"created_at"`
	UpdatedAt        Time          `json:"updated_at"`
	FirstSeen        Time          `json:"first_seen"`
	LastSeen         Time          `json:"last_seen"`
	DeletedAt        Time          `json:"deleted_at"`
	DeletedBy        string        `json:"deleted_by"`
	TerminatedAt     Time          `json:"terminated_at"`
	TerminatedBy     string        `json:"terminated_by"`
	AgentUUID        string        `json:"agent_uuid"`
	BIOSUUID         string        `json:"bios_uuid"`
	NetworkID        string        `json:"network_id"`
	NetworkName      string        `json:"network_name"`
	AgentNames       []string      `json:"agent_names"`
	IPv4s            []string      `json:"ipv4s"`
	IPv6s            []string      `json:"ipv6s"`
	FQDNs            []string      `json:"fqdns"`
	MACAddresses     []string      `json:"mac_addresses"`
	NetBIOSNames     []string      `json:"netbios_names"`
	OperatingSystems []string      `json:"operating_systems"`
	SystemTypes      []string      `json:"system_types"`
	Hostnames        []string      `json:"hostnames"`
	Sources          []AssetSource `json:"sources"`
	Tags             []AssetTag    `json:"tags"`
	ServiceNowSysID  string        `json:"servicenow_sysid"`
	AWSEC2InstanceID string        `json:"aws_ec2_instance_id"`
	AzureVMID        string        `json:"azure_vm_id"`
	GCPInstanceID    string        `json:"gcp_instance_id"`
}

// AssetSource is one source that reported an asset.
type AssetSource struct {
	Name      string `json:"name"`
	FirstSeen Time   `json:"first_seen"`
	LastSeen  Time   `json:"last_seen"`
}

// AssetTag is a tag applied to an asset.
type AssetTag struct {
	UUID    string `json:"uuid"`
	Key     string `json:"key"`
	Value   string `json:"value"`
	AddedBy string `json:"added_by"`
	AddedAt Time   `json:"added_at"`
}

// ComplianceFinding is a record of a compliance export.
type ComplianceFinding struct {
	AssetUUID        string `json:"asset_uuid"`
	CheckID          string `json:"check_id"`
	CheckName        string `json:"check_name"`
	AuditFile        string `json:"audit_file"`
	Status           string `json:"status"`
	State            string `json:"state"`
	FirstSeen        Time   `json:"first_seen"`
	LastSeen         Time   `json:"last_seen"`
	LastObserved     Time   `json:"last_observed"`
	IndexedAt        Time   `json:"indexed_at"`
	PluginID         Int    `json:"plugin_id"`
	ComplianceFullID string `json:"compliance_full_id"`
	ActualValue      string `json:"actual_value"`
	ExpectedValue    string `json:"expected_value"`
}

// Plugin is an entry of the plugin list.
type Plugin struct {
	ID         Int              `json:"id"`
	Name       string           `json:"name"`
	Attributes PluginAttributes `json:"attributes"`
}

// PluginAttributes are the commonly used plugin attributes.
type PluginAttributes struct {
	Synopsis               string   `json:"synopsis"`
	Description            string   `json:"description"`
	Solution               string   `json:"solution"`
	RiskFactor             string   `json:"risk_factor"`
	PluginModificationDate Time     `json:"plugin_modification_date"`
	PluginPublicationDate  Time     `json:"plugin_publication_date"`
	CVE                    []string `json:"cve"`
	CVSS3BaseScore         *Float   `json:"cvss3_base_score"`
}

// Decode unmarshals one raw record (as handed to a RecordFunc) into a typed record.
// Unknown fields are ignored.
func Decode[T any](record []byte) (T, error) {
	var v T
	err := json.Unmarshal(record, &v)
	return v, err
}
