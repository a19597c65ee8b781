package tenablesim

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// maxImportBody is Tenable's documented import request limit.
const maxImportBody = 5_000_000

// importJob is one accepted POST /import/assets.
type importJob struct {
	id        string
	source    string
	start     int64 // tenant ms
	startReal time.Time
	total     int
	errMsg    string
	bodyBytes int
	created   []string // UUIDs of assets the import created
	updated   []string // UUIDs of existing assets it updated
}

var importArrayAttrs = []string{"fqdn", "ipv4", "ipv6", "ip_address", "mac_address", "hostname", "operating_system", "installed_software", "bigfix_asset_id"}
var importStringAttrs = []string{"netbios_name", "ssh_fingerprint", "bios_uuid", "manufacturer_tpm_id", "mcafee_epo_guid",
	"mcafee_epo_agent_guid", "symantec_ep_hardware_key", "qualys_asset_id", "qualys_host_id", "servicenow_sys_id",
	"gcp_project_id", "gcp_zone", "gcp_instance_id", "azure_vm_id", "azure_resource_id",
	"aws_availability_zone", "aws_ec2_instance_id", "aws_ec2_instance_ami_id", "aws_ec2_instance_group_name",
	"aws_ec2_instance_state_name", "aws_ec2_instance_type", "aws_ec2_name", "aws_ec2_product_code", "aws_owner_id",
	"aws_region", "aws_subnet_id", "aws_vpc_id"}

// importAsset is one validated asset of an import request.
type importAsset struct {
	arrays  map[string][]string
	strings map[string]string
}

func (ia *importAsset) arr(k string) []string { return ia.arrays[k] }

func (ia *importAsset) ipv4() []string {
	return append(slices.Clone(ia.arrays["ipv4"]), ia.arrays["ip_address"]...)
}

// parseImport validates an import request body in one streaming pass (import
// bodies run to 5 MB, and load tests send many). Duplicate names (the last
// wins) and invalid UTF-8 are accepted, as encoding/json accepts them.
func parseImport(body []byte) (string, []importAsset, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "", nil, badf("source is required")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	notObject := func(err error) error { return badf("request body must be a JSON object: %v", err) }
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", nil, notObject(cmp.Or(err, errors.New("not an object")))
	}
	var source string
	var out []importAsset
	sawAssets := false
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return "", nil, notObject(err)
		}
		switch name := tok.String(); name {
		case "source":
			switch v, err := dec.ReadValue(); {
			case err != nil:
				return "", nil, notObject(err)
			case v.Kind() == '"':
				source = unquote(v)
			case v.Kind() != 'n':
				return "", nil, badf("source must be a string")
			}
		case "assets":
			sawAssets = true
			if out, err = parseImportAssets(dec); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, badf("unknown request property: %s", name)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return "", nil, notObject(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return "", nil, notObject(cmp.Or(err, errors.New("more than one JSON value")))
	}
	if strings.TrimSpace(source) == "" {
		return "", nil, badf("source is required")
	}
	if !sawAssets || out == nil {
		return "", nil, badf("assets must be an array of asset objects")
	}
	if len(out) == 0 {
		return "", nil, badf("assets must not be empty")
	}
	return source, out, nil
}

func unquote(v jsontext.Value) string {
	var s string
	_ = jsonv2.Unmarshal(v, &s, jsontext.AllowInvalidUTF8(true))
	return s
}

// parseImportAssets reads the assets array; nil (no error) when it is not an array.
func parseImportAssets(dec *jsontext.Decoder) ([]importAsset, error) {
	notArray := badf("assets must be an array of asset objects")
	if dec.PeekKind() != '[' {
		if err := dec.SkipValue(); err != nil {
			return nil, badf("request body must be a JSON object: %v", err)
		}
		return nil, notArray
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, notArray
	}
	out := []importAsset{}
	for i := 0; dec.PeekKind() != ']'; i++ {
		if dec.PeekKind() != '{' {
			return nil, badf("assets[%d] must be a JSON object", i)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, notArray
		}
		ia := importAsset{arrays: map[string][]string{}, strings: map[string]string{}}
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, notArray
			}
			k := tok.String()
			v, err := dec.ReadValue()
			if err != nil {
				return nil, notArray
			}
			switch {
			case slices.Contains(importArrayAttrs, k):
				var ss []string
				if v.Kind() != 'n' && jsonv2.Unmarshal(v, &ss, jsontext.AllowInvalidUTF8(true)) != nil {
					return nil, badf("assets[%d]: attribute %s must be an array of strings", i, k)
				}
				ia.arrays[k] = ss
			case slices.Contains(importStringAttrs, k):
				if v.Kind() != 'n' && v.Kind() != '"' {
					return nil, badf("assets[%d]: attribute %s must be a string", i, k)
				}
				if v.Kind() == '"' {
					ia.strings[k] = unquote(v)
				} else {
					ia.strings[k] = ""
				}
			default:
				return nil, badf("assets[%d]: unknown attribute %s", i, k)
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, notArray
		}
		if len(ia.arrays["mac_address"]) > 100 {
			return nil, badf("assets[%d]: mac_address accepts at most 100 values (got %d)", i, len(ia.arrays["mac_address"]))
		}
		if len(nonEmpty(ia.arrays["fqdn"])) == 0 && len(nonEmpty(ia.ipv4())) == 0 && ia.strings["netbios_name"] == "" && len(nonEmpty(ia.arrays["mac_address"])) == 0 {
			return nil, badf("assets[%d]: at least one of fqdn, ipv4, netbios_name or mac_address is required", i)
		}
		out = append(out, ia)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, notArray
	}
	return out, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// cloudsOf lists the cloud providers whose attributes the request carries.
func cloudsOf(as []importAsset) []string {
	var clouds []string
	for _, c := range []string{"aws_", "azure_", "gcp_"} {
		for _, ia := range as {
			found := false
			for k, v := range ia.strings {
				if strings.HasPrefix(k, c) && v != "" {
					found = true
					break
				}
			}
			if found {
				clouds = append(clouds, strings.TrimSuffix(c, "_"))
				break
			}
		}
	}
	return clouds
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxImportBody+1))
	if err != nil {
		writeBadRequest(w, "could not read the request body")
		return
	}
	s.stats.update(func(st *Stats) { st.ImportBodyBytesMax = max(st.ImportBodyBytesMax, len(body)) })
	if len(body) > maxImportBody {
		writeTenableError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "The request body exceeds the limit of 5000000 bytes.")
		return
	}
	source, assets, err := parseImport(body)
	if err != nil {
		writeBadRequest(w, err.Error())
		return
	}
	s.mu.Lock()
	seq := uint64(len(s.imports) + 1)
	job := &importJob{
		id: uuidOf(uint64(s.cfg.Seed), domImport, seq), source: source, start: s.t.now, startReal: s.realNow(),
		total: len(assets), bodyBytes: len(body),
	}
	if clouds := cloudsOf(assets); len(clouds) > 1 {
		job.errMsg = "AWS, Azure, and GCP asset data must be imported separately: the request mixed " + strings.Join(clouds, ", ") + " attributes."
	} else {
		s.mergeImport(job, seq, assets)
	}
	s.imports = append(s.imports, job)
	s.importByID[job.id] = job
	s.mu.Unlock()
	s.stats.update(func(st *Stats) { st.Imports++ })
	s.log.Debug("assets imported", "job_id", job.id, "source", source, "assets", len(assets), "created", len(job.created), "updated", len(job.updated))
	writeJSON(w, http.StatusOK, map[string]string{"asset_import_job_uuid": job.id})
}

// mergeImport matches each imported asset to a live asset by any identifier,
// else creates one, and publishes the changed tenant. Caller holds s.mu.
func (s *Server) mergeImport(job *importJob, seq uint64, as []importAsset) {
	now := s.t.now
	assets := slices.Clone(s.t.assets)
	changed := map[int]bool{}
	if s.t.importIdx == nil {
		s.t.importIdx = newImportIndex(s.t.assets)
	}
	index := s.t.importIdx // positions stay: assets are replaced in place or appended
	for k := range as {
		ia := &as[k]
		idx := index.match(ia)
		var a *asset
		if idx >= 0 {
			if !changed[idx] {
				c := *assets[idx]
				a = &c
				assets[idx] = a
				changed[idx] = true
				job.updated = append(job.updated, a.id)
			} else {
				a = assets[idx]
			}
		} else {
			a = &asset{
				seq: int64(len(assets)), id: uuidOf(uint64(s.cfg.Seed), domImport, seq, uint64(k)),
				created: now, firstSeen: now, sched: -1, network: 0, profile: profUbuntu, acr: 1,
			}
			assets = append(assets, a)
			idx = len(assets) - 1
			changed[idx] = true
			job.created = append(job.created, a.id)
		}
		applyImport(a, ia, job.source, now)
		a.render(s.w)
		index.add(idx, a) // its identifiers grew
	}
	s.t.assets = assets
}

// importIndex finds the live asset an imported asset matches: the first, in
// tenant order, that shares an FQDN, IPv4 address, MAC address or NetBIOS name
// with it (names and MACs compared case-insensitively). It maps each identifier
// to the lowest index holding it, so an import costs a lookup per identifier
// rather than a scan of the tenant.
type importIndex map[string]int

func importKeys(fqdns, ipv4s, macs, netbios []string) []string {
	var keys []string
	for _, l := range []struct {
		prefix string
		values []string
		fold   bool
	}{{"f:", fqdns, true}, {"4:", ipv4s, false}, {"m:", macs, true}, {"n:", netbios, true}} {
		for _, v := range l.values {
			if v == "" {
				continue
			}
			if l.fold {
				v = strings.ToLower(v)
			}
			keys = append(keys, l.prefix+v)
		}
	}
	return keys
}

func newImportIndex(assets []*asset) importIndex {
	ix := importIndex{}
	for i, a := range assets {
		ix.add(i, a)
	}
	return ix
}

// add records a's identifiers at index i (a no-op for an asset that is not live).
func (ix importIndex) add(i int, a *asset) {
	if i < 0 || !a.live() {
		return
	}
	for _, k := range importKeys(a.fqdns, a.ipv4s, a.macs, a.netbios) {
		if j, ok := ix[k]; !ok || i < j {
			ix[k] = i
		}
	}
}

// match returns the index of the asset ia matches, or -1.
func (ix importIndex) match(ia *importAsset) int {
	best := -1
	for _, k := range importKeys(ia.arr("fqdn"), ia.ipv4(), ia.arr("mac_address"), []string{ia.strings["netbios_name"]}) {
		if j, ok := ix[k]; ok && (best < 0 || j < best) {
			best = j
		}
	}
	return best
}

func union(dst []string, src []string) []string {
	out := slices.Clone(dst)
	for _, v := range src {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// applyImport copies the imported attributes onto a (a private copy).
func applyImport(a *asset, ia *importAsset, source string, now int64) {
	a.fqdns = union(a.fqdns, ia.arr("fqdn"))
	a.ipv4s = union(a.ipv4s, ia.ipv4())
	a.ipv6s = union(a.ipv6s, ia.arr("ipv6"))
	a.macs = union(a.macs, ia.arr("mac_address"))
	a.hostnames = union(a.hostnames, ia.arr("hostname"))
	a.software = union(a.software, ia.arr("installed_software"))
	if os := nonEmpty(ia.arr("operating_system")); len(os) > 0 {
		a.os = os
		if strings.Contains(strings.ToLower(os[0]), "windows") && a.created == now {
			a.profile = profWinServer
		}
	}
	if v := ia.arr("bigfix_asset_id"); len(v) > 0 {
		a.bigfix = v[0]
	}
	str := func(k string, dst *string) {
		if v := ia.strings[k]; v != "" {
			*dst = v
		}
	}
	if v := ia.strings["netbios_name"]; v != "" {
		a.netbios = union(a.netbios, []string{v})
	}
	if v := ia.strings["ssh_fingerprint"]; v != "" {
		a.sshFingerprints = union(a.sshFingerprints, []string{v})
	}
	str("bios_uuid", &a.bios)
	str("mcafee_epo_guid", &a.mcafeeGUID)
	str("mcafee_epo_agent_guid", &a.mcafeeAgentGUID)
	str("servicenow_sys_id", &a.servicenow)
	hasCloud := false
	for k, v := range ia.strings {
		if v != "" && (strings.HasPrefix(k, "aws_") || strings.HasPrefix(k, "azure_") || strings.HasPrefix(k, "gcp_")) {
			hasCloud = true
		}
	}
	if hasCloud {
		c := cloudInfo{}
		if a.cloudF != nil {
			c = *a.cloudF
		}
		for _, m := range []struct {
			k   string
			dst *string
		}{{"aws_availability_zone", &c.zone}, {"aws_ec2_instance_id", &c.instanceID}, {"aws_ec2_instance_ami_id", &c.amiID},
			{"aws_ec2_instance_group_name", &c.groupName}, {"aws_ec2_instance_state_name", &c.stateName},
			{"aws_ec2_instance_type", &c.instanceType}, {"aws_ec2_name", &c.ec2Name}, {"aws_ec2_product_code", &c.productCode},
			{"aws_owner_id", &c.ownerID}, {"aws_region", &c.region}, {"aws_subnet_id", &c.subnetID}, {"aws_vpc_id", &c.vpcID},
			{"azure_vm_id", &c.vmID}, {"azure_resource_id", &c.resourceID},
			{"gcp_project_id", &c.projectID}, {"gcp_zone", &c.gcpZone}, {"gcp_instance_id", &c.gcpInstanceID}} {
			str(m.k, m.dst)
			if ia.strings[m.k] != "" && a.cloud == cloudNone {
				switch {
				case strings.HasPrefix(m.k, "aws_"):
					a.cloud = cloudAWS
				case strings.HasPrefix(m.k, "azure_"):
					a.cloud = cloudAzure
				default:
					a.cloud = cloudGCP
				}
			}
		}
		a.cloudF = &c
	}
	srcs := slices.Clone(a.sources)
	found := false
	for i := range srcs {
		if srcs[i].name == source {
			srcs[i].last = now
			found = true
		}
	}
	if !found {
		srcs = append(srcs, assetSource{name: source, first: now, last: now})
	}
	a.sources = srcs
	a.ifaces = []netIface{{name: "UNKNOWN", macs: a.macs, ipv4s: a.ipv4s, ipv6s: a.ipv6s, fqdns: a.fqdns}}
	a.updated = now
	a.lastSeen = max(a.lastSeen, now)
}

// importJSON renders an import job as GET /import/asset-jobs shows it.
func (s *Server) importJSON(j *importJob, now time.Time) map[string]any {
	status, end, msg := "IN_PROGRESS", j.start, ""
	uploaded, failed := 0, 0
	if now.Sub(j.startReal) >= s.cfg.ImportLatency {
		end = j.start + s.cfg.ImportLatency.Milliseconds()
		if j.errMsg != "" {
			status, msg, failed = "ERROR", j.errMsg, j.total
		} else {
			status, uploaded = "COMPLETE", j.total
		}
	}
	return map[string]any{
		"job_id": j.id, "container_id": uuidOf(uint64(s.cfg.Seed), domImport, 0), "source": j.source, "batches": 1,
		"uploaded_assets": uploaded, "failed_assets": failed, "start_time": j.start, "last_update_time": end,
		"end_time": end, "status": status, "status_message": msg,
	}
}

func (s *Server) handleImportJobs(w http.ResponseWriter, r *http.Request) {
	now := s.realNow()
	s.mu.Lock()
	jobs := make([]map[string]any, 0, len(s.imports))
	for i := len(s.imports) - 1; i >= 0; i-- {
		jobs = append(jobs, s.importJSON(s.imports[i], now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"asset_import_jobs": jobs})
}

func (s *Server) handleImportJob(w http.ResponseWriter, r *http.Request) {
	now := s.realNow()
	s.mu.Lock()
	j := s.importByID[r.PathValue("uuid")]
	var out map[string]any
	if j != nil {
		out = s.importJSON(j, now)
	}
	s.mu.Unlock()
	if out == nil {
		writeTenableError(w, http.StatusNotFound, "Not Found", "Asset import job "+r.PathValue("uuid")+" not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}
