package tenablesim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// The tenant model. Assets and plugins are immutable once published: a change
// (Advance, an import) copies the asset or plugin, changes the copy and publishes
// a new slice. An export keeps the slices it saw when it was requested, which
// makes it a consistent snapshot without copying any data.

// tenant is the whole fake Tenable VM container at one instant.
type tenant struct {
	now     int64 // tenant clock, Unix ms
	assets  []*asset
	plugins []*plugin
	// importIdx finds the asset an import matches; built on the first import
	// and kept up to date by later ones (a new tenant starts without one).
	importIdx importIndex
}

// Finding states and severity modification types.
const (
	stateOpen = iota
	stateReopened
	stateFixed
)

var stateNames = [...]string{"OPEN", "REOPENED", "FIXED"}

const (
	modNone = iota
	modRecasted
	modAccepted
)

var modNames = [...]string{"NONE", "RECASTED", "ACCEPTED"}
var severityNames = [...]string{"info", "low", "medium", "high", "critical"}
var riskFactors = [...]string{"None", "Low", "Medium", "High", "Critical"}

// Finding sources.
const (
	srcNessus = iota
	srcAgent
	srcNNM
)

var findingSources = [...]string{"NESSUS", "AGENT", "NNM"}

// finding is one vulnerability finding (asset x plugin x port x protocol), kept
// compact: an export of a million findings is rendered from these and the
// pre-rendered plugin and asset fragments.
type finding struct {
	firstFound, lastFound, lastFixed, resurfaced, indexed int64 // Unix ms; 0 = absent
	plugin                                                int32 // index into tenant.plugins
	port                                                  uint16
	proto                                                 uint8
	svc                                                   int8 // index into services, -1 none
	state                                                 uint8
	sev                                                   uint8 // severity_id (after recast)
	mod                                                   uint8
	source                                                uint8
	sched                                                 uint16 // scan schedule index
}

// time the finding's last scan event happened: when it was fixed, else last found.
func (f *finding) eventTime() int64 {
	if f.state == stateFixed {
		return f.lastFixed
	}
	return f.lastFound
}

// Cloud providers.
const (
	cloudNone = iota
	cloudAWS
	cloudAzure
	cloudGCP
)

type assetSource struct {
	name        string
	first, last int64
}

type assetTag struct {
	def     int32 // index into tagDefs
	addedAt int64
}

type tagDef struct {
	uuid, key, value, addedBy string
}

type netIface struct {
	name                      string
	macs, ipv4s, ipv6s, fqdns []string
}

type openPort struct {
	svc         int8
	first, last int64
}

type keyValue struct{ key, value string }

// cloudInfo holds the provider fields of a cloud asset.
type cloudInfo struct {
	// AWS
	amiID, instanceID, ownerID, zone, region, vpcID, groupName, stateName, instanceType, subnetID, productCode, ec2Name string
	// Azure
	vmID, resourceID string
	// GCP
	projectID, gcpZone, gcpInstanceID string
}

// asset is one asset of the tenant.
type asset struct {
	id      string
	seq     int64 // creation sequence: fixes export order
	profile int8

	hasAgent, hasPluginResults, isLicensed, isPublic bool

	agentUUID  string
	agentNames []string

	created, updated, firstSeen, lastSeen           int64
	firstScan, lastScan, lastAuthScan, lastLicensed int64
	authAttempt, authSuccess                        int64
	authStatus                                      string
	deleted, terminated                             int64
	deletedBy, terminatedBy                         string
	sched                                           int16 // scan schedule, -1 none

	network int8
	bios    string
	serial  string

	ipv4s, ipv6s, fqdns, hostnames, netbios, macs []string
	os, systemTypes, sshFingerprints, software    []string
	workgroup                                     string

	cloud  int8
	cloudF *cloudInfo

	mcafeeGUID, mcafeeAgentGUID, servicenow, bigfix string

	sources      []assetSource
	tags         []assetTag
	ifaces       []netIface
	ports        []openPort
	resourceTags []keyValue
	acr          int // 1-10
	aes          int // 0-1000

	findings   []finding
	compliance []compResult

	vulnFrag []byte // the "asset" object of vuln records
	compFrag []byte // the "asset" object of compliance records
}

func (a *asset) live() bool { return a.deleted == 0 && a.terminated == 0 }

// Compliance result statuses.
const (
	compPassed = iota
	compFailed
	compWarning
	compSkipped
	compError
	compUnknown
)

var compStatusNames = [...]string{"PASSED", "FAILED", "WARNING", "SKIPPED", "ERROR", "UNKNOWN"}

// compResult is one compliance finding: asset x audit check.
type compResult struct {
	firstSeen, lastSeen, lastObserved, lastFixed, indexed int64
	audit                                                 uint8
	check                                                 uint16
	status                                                uint8
	state                                                 uint8
}

// ---- deterministic identifiers ----

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashOf folds values into one 64-bit hash.
func hashOf(vs ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vs {
		h = mix64(h ^ v + 0x9e3779b97f4a7c15)
	}
	return h
}

// appendUUID appends a version-4-shaped UUID built from two hashes.
func appendUUID(b []byte, hi, lo uint64) []byte {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:], raw[10:])
	return append(b, out[:]...)
}

// uuidOf returns a deterministic UUID for the given values.
func uuidOf(vs ...uint64) string {
	h := hashOf(vs...)
	return string(appendUUID(nil, h, mix64(h^0x5bd1e995)))
}

// hex32 returns 32 hex digits (agent UUIDs, ServiceNow sys_ids).
func hex32(vs ...uint64) string {
	h := hashOf(vs...)
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], h)
	binary.BigEndian.PutUint64(raw[8:], mix64(h+1))
	return hex.EncodeToString(raw[:])
}

// sha256Hex returns the SHA-256 of s in hex (compliance identifiers).
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// strHash hashes a string for use in hashOf.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Hash domains, so identifiers drawn from different purposes never collide.
const (
	domFinding = iota + 1
	domScan
	domSchedule
	domAsset
	domAgent
	domTag
	domUser
	domImport
	domJob
	domRequest
	domRecast
	domVariant
	domCheck
)
