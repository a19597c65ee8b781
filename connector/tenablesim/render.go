package tenablesim

import (
	"strconv"
)

// render pre-renders the asset objects embedded in vuln and compliance records.
func (a *asset) render(w *world) {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	b = appendOptStr(b, "agent_uuid", a.agentUUID)
	b = appendOptStr(b, "bios_uuid", a.bios)
	b = appendOptStr(b, "device_type", first(a.systemTypes))
	b = appendOptStr(b, "fqdn", first(a.fqdns))
	b = appendOptStr(b, "hostname", first(a.hostnames))
	b = appendStrField(b, "uuid", a.id)
	b = appendOptStr(b, "ipv4", first(a.ipv4s))
	b = appendOptStr(b, "ipv6", first(a.ipv6s))
	if a.lastAuthScan != 0 {
		b = appendTimeField(b, "last_authenticated_results", a.lastAuthScan)
	}
	if a.lastScan != 0 && a.lastAuthScan != a.lastScan {
		b = appendTimeField(b, "last_unauthenticated_results", a.lastScan)
	}
	b = appendOptStr(b, "mac_address", first(a.macs))
	b = appendOptStr(b, "netbios_name", first(a.netbios))
	b = appendOptStr(b, "netbios_workgroup", a.workgroup)
	b = appendOptStrArray(b, "operating_system", a.os)
	b = appendOptStr(b, "serial_number", a.serial)
	b = appendStrField(b, "network_id", networks[a.network].id)
	b = appendBoolField(b, "tracked", true)
	a.vulnFrag = append(b, '}')

	b = make([]byte, 0, 512)
	b = append(b, '{')
	b = appendStrField(b, "id", a.id)
	b = appendStrArrayField(b, "ipv4_addresses", nonNil(a.ipv4s))
	b = appendStrArrayField(b, "ipv6_addresses", nonNil(a.ipv6s))
	b = appendStrArrayField(b, "fqdns", nonNil(a.fqdns))
	b = appendNullStr(b, "name", firstOf(a.fqdns, a.hostnames, a.ipv4s))
	b = appendNullStr(b, "agent_name", first(a.agentNames))
	b = appendNullStr(b, "agent_uuid", a.agentUUID)
	b = appendNullStr(b, "netbios_name", first(a.netbios))
	b = appendStrArrayField(b, "mac_addresses", nonNil(a.macs))
	b = appendStrArrayField(b, "operating_systems", nonNil(a.os))
	b = appendNullStr(b, "system_type", first(a.systemTypes))
	b = appendStrField(b, "network_id", networks[a.network].id)
	b = appendKey(b, "tags")
	b = append(b, '[')
	// Group tag values by category, in category order.
	n := 0
	for _, cat := range tagCategories {
		var vals []string
		for _, t := range a.tags {
			if w.tagDefs[t.def].key == cat.key {
				vals = append(vals, w.tagDefs[t.def].value)
			}
		}
		if len(vals) == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, '{')
		b = appendStrField(b, "category", cat.key)
		b = appendStrArrayField(b, "values", vals)
		b = append(b, '}')
	}
	// Tags added by imports or other categories are not in tagCategories; the
	// generator only uses those, so nothing else to do.
	b = append(b, ']')
	a.compFrag = append(b, '}')
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func firstOf(ss ...[]string) string {
	for _, s := range ss {
		if len(s) > 0 {
			return s[0]
		}
	}
	return ""
}

// exportOpts are the record options of an asset export.
type exportOpts struct {
	openPorts    bool
	resourceTags bool
}

// appendAssetV1 renders an asset in the v1 (flat) model: every documented key is
// present, null when empty.
func appendAssetV1(b []byte, w *world, a *asset, o exportOpts) []byte {
	c := a.cloudF
	if c == nil {
		c = &cloudInfo{}
	}
	b = append(b, '{')
	b = appendStrField(b, "id", a.id)
	b = appendBoolField(b, "has_agent", a.hasAgent)
	b = appendBoolField(b, "has_plugin_results", a.hasPluginResults)
	b = appendNullTime(b, "created_at", a.created)
	b = appendNullTime(b, "terminated_at", a.terminated)
	b = appendNullStr(b, "terminated_by", a.terminatedBy)
	b = appendNullTime(b, "updated_at", a.updated)
	b = appendNullTime(b, "deleted_at", a.deleted)
	b = appendNullStr(b, "deleted_by", a.deletedBy)
	b = appendNullTime(b, "first_seen", a.firstSeen)
	b = appendNullTime(b, "last_seen", a.lastSeen)
	b = appendNullTime(b, "first_scan_time", a.firstScan)
	b = appendNullTime(b, "last_scan_time", a.lastScan)
	b = appendNullTime(b, "last_authenticated_scan_date", a.lastAuthScan)
	b = appendNullTime(b, "last_licensed_scan_date", a.lastLicensed)
	b = appendNullStr(b, "last_scan_id", lastScanID(w, a))
	b = appendNullStr(b, "last_schedule_id", lastScheduleID(w, a))
	b = appendNullStr(b, "azure_vm_id", c.vmID)
	b = appendNullStr(b, "azure_resource_id", c.resourceID)
	b = appendNullStr(b, "gcp_project_id", c.projectID)
	b = appendNullStr(b, "gcp_zone", c.gcpZone)
	b = appendNullStr(b, "gcp_instance_id", c.gcpInstanceID)
	b = appendNullStr(b, "aws_ec2_instance_ami_id", c.amiID)
	b = appendNullStr(b, "aws_ec2_instance_id", c.instanceID)
	b = appendNullStr(b, "agent_uuid", a.agentUUID)
	b = appendNullStr(b, "bios_uuid", a.bios)
	b = appendStrField(b, "network_id", networks[a.network].id)
	b = appendStrField(b, "network_name", networks[a.network].name)
	b = appendNullStr(b, "aws_owner_id", c.ownerID)
	b = appendNullStr(b, "aws_availability_zone", c.zone)
	b = appendNullStr(b, "aws_region", c.region)
	b = appendNullStr(b, "aws_vpc_id", c.vpcID)
	b = appendNullStr(b, "aws_ec2_instance_group_name", c.groupName)
	b = appendNullStr(b, "aws_ec2_instance_state_name", c.stateName)
	b = appendNullStr(b, "aws_ec2_instance_type", c.instanceType)
	b = appendNullStr(b, "aws_subnet_id", c.subnetID)
	b = appendNullStr(b, "aws_ec2_product_code", c.productCode)
	b = appendNullStr(b, "aws_ec2_name", c.ec2Name)
	b = appendNullStr(b, "mcafee_epo_guid", a.mcafeeGUID)
	b = appendNullStr(b, "mcafee_epo_agent_guid", a.mcafeeAgentGUID)
	b = appendNullStr(b, "servicenow_sysid", a.servicenow)
	b = appendNullStr(b, "bigfix_asset_id", a.bigfix)
	b = appendNullTime(b, "last_authentication_attempt_date", a.authAttempt)
	b = appendNullTime(b, "last_authentication_success_date", a.authSuccess)
	b = appendNullStr(b, "last_authentication_scan_status", a.authStatus)
	b = appendNullStr(b, "last_scan_target", scanTarget(a))
	b = appendNullStr(b, "serial_number", a.serial)
	b = appendStrArrayField(b, "agent_names", nonNil(a.agentNames))
	b = appendStrArrayField(b, "installed_software", nonNil(a.software))
	b = appendStrArrayField(b, "ipv4s", nonNil(a.ipv4s))
	b = appendStrArrayField(b, "ipv6s", nonNil(a.ipv6s))
	b = appendStrArrayField(b, "fqdns", nonNil(a.fqdns))
	b = appendStrArrayField(b, "mac_addresses", nonNil(a.macs))
	b = appendStrArrayField(b, "netbios_names", nonNil(a.netbios))
	b = appendStrArrayField(b, "operating_systems", nonNil(a.os))
	b = appendStrArrayField(b, "system_types", nonNil(a.systemTypes))
	b = appendStrArrayField(b, "hostnames", nonNil(a.hostnames))
	b = appendStrArrayField(b, "ssh_fingerprints", nonNil(a.sshFingerprints))
	b = appendStrArrayField(b, "qualys_asset_ids", []string{})
	b = appendStrArrayField(b, "qualys_host_ids", []string{})
	b = appendStrArrayField(b, "manufacturer_tpm_ids", []string{})
	b = appendStrArrayField(b, "symantec_ep_hardware_keys", []string{})
	b = appendKey(b, "sources")
	b = appendSources(b, a)
	b = appendKey(b, "tags")
	b = appendTags(b, w, a, true)
	b = appendKey(b, "network_interfaces")
	b = appendIfaces(b, a, true)
	if o.openPorts {
		b = appendKey(b, "open_ports")
		b = appendOpenPorts(b, a)
	}
	b = appendKey(b, "acr_score")
	b = appendString(b, strconv.Itoa(a.acr)+".0")
	b = appendKey(b, "exposure_score")
	b = appendString(b, strconv.Itoa(a.aes)+".0")
	b = appendKey(b, "ratings")
	b = appendRatings(b, a)
	b = appendKey(b, "tenable_agent_days_since_active")
	if a.hasAgent {
		b = strconv.AppendInt(b, agentDays(a), 10)
	} else {
		b = append(b, "null"...)
	}
	if o.resourceTags {
		b = appendKey(b, "resource_tags")
		b = appendResourceTags(b, a)
	}
	return append(b, '}')
}

// appendAssetV2 renders an asset in the v2 (nested) model, omitting empties.
func appendAssetV2(b []byte, w *world, a *asset, o exportOpts) []byte {
	b = append(b, '{')
	b = appendStrField(b, "id", a.id)
	b = appendBoolField(b, "has_agent", a.hasAgent)
	b = appendBoolField(b, "has_plugin_results", a.hasPluginResults)
	b = appendOptStr(b, "agent_uuid", a.agentUUID)
	b = appendBoolField(b, "is_licensed", a.isLicensed)
	b = appendBoolField(b, "is_public", a.isPublic)
	b = appendKey(b, "types")
	if a.cloud != cloudNone {
		b = append(b, `["cloud","host"]`...)
	} else {
		b = append(b, `["host"]`...)
	}
	b = appendOptStrArray(b, "agent_names", a.agentNames)
	b = appendOptStrArray(b, "operating_systems", a.os)
	b = appendOptStrArray(b, "system_types", a.systemTypes)
	b = appendOptStr(b, "serial_number", a.serial)
	b = appendOptStrArray(b, "installed_software", a.software)
	if len(a.sources) > 0 {
		b = appendKey(b, "sources")
		b = appendSources(b, a)
	}
	if len(a.tags) > 0 {
		b = appendKey(b, "tags")
		b = appendTags(b, w, a, true)
	}
	if a.firstScan != 0 {
		b = appendKey(b, "scan")
		b = append(b, '{')
		b = appendOptTime(b, "first_scan_time", a.firstScan)
		b = appendOptTime(b, "last_scan_time", a.lastScan)
		b = appendOptTime(b, "last_authenticated_scan_date", a.lastAuthScan)
		b = appendOptTime(b, "last_licensed_scan_date", a.lastLicensed)
		b = appendOptStr(b, "last_scan_id", lastScanID(w, a))
		b = appendOptStr(b, "last_schedule_id", lastScheduleID(w, a))
		b = appendOptTime(b, "last_authentication_attempt_date", a.authAttempt)
		b = appendOptTime(b, "last_authentication_success_date", a.authSuccess)
		b = appendOptStr(b, "last_authentication_scan_status", a.authStatus)
		b = appendOptStr(b, "last_scan_target", scanTarget(a))
		b = append(b, '}')
	}
	if c := a.cloudF; c != nil {
		b = appendKey(b, "cloud")
		b = append(b, '{')
		switch a.cloud {
		case cloudAWS:
			b = appendKey(b, "aws")
			b = append(b, '{')
			b = appendOptStr(b, "ec2_instance_ami_id", c.amiID)
			b = appendOptStr(b, "ec2_instance_id", c.instanceID)
			b = appendOptStr(b, "owner_id", c.ownerID)
			b = appendOptStr(b, "availability_zone", c.zone)
			b = appendOptStr(b, "region", c.region)
			b = appendOptStr(b, "vpc_id", c.vpcID)
			b = appendOptStr(b, "ec2_instance_group_name", c.groupName)
			b = appendOptStr(b, "ec2_instance_state_name", c.stateName)
			b = appendOptStr(b, "ec2_instance_type", c.instanceType)
			b = appendOptStr(b, "subnet_id", c.subnetID)
			b = appendOptStr(b, "ec2_product_code", c.productCode)
			b = appendOptStr(b, "ec2_name", c.ec2Name)
			b = append(b, '}')
		case cloudAzure:
			b = appendKey(b, "azure")
			b = append(b, '{')
			b = appendOptStr(b, "vm_id", c.vmID)
			b = appendOptStr(b, "resource_id", c.resourceID)
			b = append(b, '}')
		case cloudGCP:
			b = appendKey(b, "gcp")
			b = append(b, '{')
			b = appendOptStr(b, "project_id", c.projectID)
			b = appendOptStr(b, "zone", c.gcpZone)
			b = appendOptStr(b, "instance_id", c.gcpInstanceID)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if a.servicenow != "" || a.mcafeeGUID != "" || a.bigfix != "" {
		b = appendKey(b, "third_party_ids")
		b = append(b, '{')
		b = appendOptStr(b, "mcafee_epo_guid", a.mcafeeGUID)
		b = appendOptStr(b, "mcafee_epo_agent_guid", a.mcafeeAgentGUID)
		b = appendOptStr(b, "servicenow_sysid", a.servicenow)
		b = appendOptStr(b, "bigfix_asset_id", a.bigfix)
		b = append(b, '}')
	}
	b = appendKey(b, "network")
	b = append(b, '{')
	b = appendStrField(b, "network_id", networks[a.network].id)
	b = appendStrField(b, "network_name", networks[a.network].name)
	b = appendOptStr(b, "bios_uuid", a.bios)
	b = appendOptStrArray(b, "ipv4s", a.ipv4s)
	b = appendOptStrArray(b, "ipv6s", a.ipv6s)
	b = appendOptStrArray(b, "fqdns", a.fqdns)
	b = appendOptStrArray(b, "mac_addresses", a.macs)
	b = appendOptStrArray(b, "netbios_names", a.netbios)
	b = appendOptStrArray(b, "hostnames", a.hostnames)
	b = appendOptStrArray(b, "ssh_fingerprints", a.sshFingerprints)
	if len(a.ifaces) > 0 {
		b = appendKey(b, "network_interfaces")
		b = appendIfaces(b, a, false)
	}
	if o.openPorts && len(a.ports) > 0 {
		b = appendKey(b, "open_ports")
		b = appendOpenPorts(b, a)
	}
	b = append(b, '}')
	b = appendKey(b, "timestamps")
	b = append(b, '{')
	b = appendOptTime(b, "created_at", a.created)
	b = appendOptTime(b, "updated_at", a.updated)
	b = appendOptTime(b, "deleted_at", a.deleted)
	b = appendOptTime(b, "terminated_at", a.terminated)
	b = appendOptTime(b, "first_seen", a.firstSeen)
	b = appendOptTime(b, "last_seen", a.lastSeen)
	b = append(b, '}')
	if a.hasAgent {
		b = appendIntField(b, "tenable_agent_days_since_active", agentDays(a))
	}
	b = appendKey(b, "ratings")
	b = appendRatings(b, a)
	if o.resourceTags && len(a.resourceTags) > 0 {
		b = appendKey(b, "resource_tags")
		b = appendResourceTags(b, a)
	}
	return append(b, '}')
}

func agentDays(a *asset) int64 {
	return int64(hashOf(uint64(a.seq), 0xda) % 3)
}

func lastScanID(w *world, a *asset) string {
	if a.sched < 0 || a.lastScan == 0 {
		return ""
	}
	return scanUUID(w, int(a.sched), a.lastScan)
}

func lastScheduleID(w *world, a *asset) string {
	if a.sched < 0 || a.lastScan == 0 {
		return ""
	}
	return w.schedules[a.sched]
}

func scanTarget(a *asset) string {
	if a.lastScan == 0 {
		return ""
	}
	return firstOf(a.ipv4s, a.fqdns)
}

// scanUUID is the UUID of the scan of a schedule that ran at time t.
func scanUUID(w *world, sched int, t int64) string {
	h := hashOf(uint64(w.seed), domScan, uint64(sched), uint64(t))
	return string(appendUUID(nil, h, mix64(h)))
}

func appendSources(b []byte, a *asset) []byte {
	b = append(b, '[')
	for i, s := range a.sources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStrField(b, "name", s.name)
		b = appendTimeField(b, "first_seen", s.first)
		b = appendTimeField(b, "last_seen", s.last)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendTags(b []byte, w *world, a *asset, withAddedBy bool) []byte {
	b = append(b, '[')
	for i, t := range a.tags {
		d := &w.tagDefs[t.def]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStrField(b, "uuid", d.uuid)
		b = appendStrField(b, "key", d.key)
		b = appendStrField(b, "value", d.value)
		if withAddedBy {
			b = appendStrField(b, "added_by", d.addedBy)
		}
		b = appendTimeField(b, "added_at", t.addedAt)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendIfaces(b []byte, a *asset, v1 bool) []byte {
	b = append(b, '[')
	for i, n := range a.ifaces {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStrField(b, "name", n.name)
		if v1 {
			b = append(b, `,"virtual":null,"aliased":null`...)
			b = appendStrArrayField(b, "fqdns", nonNil(n.fqdns))
			b = appendStrArrayField(b, "mac_addresses", nonNil(n.macs))
			b = appendStrArrayField(b, "ipv4s", nonNil(n.ipv4s))
			b = appendStrArrayField(b, "ipv6s", nonNil(n.ipv6s))
		} else {
			b = appendOptStrArray(b, "fqdns", n.fqdns)
			b = appendOptStrArray(b, "mac_addresses", n.macs)
			b = appendOptStrArray(b, "ipv4s", n.ipv4s)
			b = appendOptStrArray(b, "ipv6s", n.ipv6s)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendOpenPorts(b []byte, a *asset) []byte {
	b = append(b, '[')
	for i, p := range a.ports {
		s := services[p.svc]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendIntField(b, "port", int64(s.port))
		b = appendStrField(b, "protocol", protoNames[s.proto])
		b = appendStrArrayField(b, "service_names", []string{s.name})
		b = appendTimeField(b, "first_seen", p.first)
		b = appendTimeField(b, "last_seen", p.last)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRatings(b []byte, a *asset) []byte {
	b = append(b, `{"acr":{"score":`...)
	b = strconv.AppendInt(b, int64(a.acr), 10)
	b = append(b, `},"aes":{"score":`...)
	b = strconv.AppendInt(b, int64(a.aes), 10)
	return append(b, "}}"...)
}

func appendResourceTags(b []byte, a *asset) []byte {
	b = append(b, '[')
	for i, t := range a.resourceTags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStrField(b, "key", t.key)
		b = appendStrField(b, "value", t.value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendVulnRecord renders one finding as vuln export chunks carry it. It is the
// hot path of the simulator: fragments are copied, only a few scalars formatted.
func appendVulnRecord(b []byte, w *world, a *asset, p *plugin, f *finding) []byte {
	b = append(b, `{"asset":`...)
	b = append(b, a.vulnFrag...)
	if len(p.output) > 0 {
		b = append(b, `,"output":"`...)
		for _, s := range p.output {
			if s.ph == phNone {
				b = append(b, s.lit...)
				continue
			}
			b = appendPlaceholder(b, a, f, s.ph)
		}
		b = append(b, '"')
	}
	b = append(b, `,"plugin":`...)
	b = append(b, p.frag...)
	b = append(b, `,"port":{"port":`...)
	b = strconv.AppendUint(b, uint64(f.port), 10)
	b = append(b, `,"protocol":"`...)
	b = append(b, protoNames[f.proto]...)
	b = append(b, '"')
	if f.svc >= 0 {
		b = append(b, `,"service":"`...)
		b = append(b, services[f.svc].name...)
		b = append(b, '"')
	}
	b = append(b, `},"scan":{`...)
	t := f.eventTime()
	b = append(b, `"completed_at":`...)
	b = appendTime(b, t)
	b = append(b, `,"schedule_uuid":"`...)
	b = append(b, w.schedules[f.sched]...)
	b = append(b, `","started_at":`...)
	b = appendTime(b, t-scanDuration(f.sched, t))
	b = append(b, `,"uuid":"`...)
	h := hashOf(uint64(w.seed), domScan, uint64(f.sched), uint64(t))
	b = appendUUID(b, h, mix64(h))
	b = append(b, '"')
	if ip := scanTarget(a); ip != "" {
		b = append(b, `,"last_scan_target":`...)
		b = appendString(b, ip)
	}
	b = append(b, `},"severity":"`...)
	b = append(b, severityNames[f.sev]...)
	b = append(b, `","severity_id":`...)
	b = append(b, byte('0'+f.sev))
	b = append(b, `,"severity_default_id":`...)
	b = append(b, byte('0'+p.sev))
	b = append(b, `,"severity_modification_type":"`...)
	b = append(b, modNames[f.mod]...)
	b = append(b, '"')
	if f.mod == modRecasted {
		rh := hashOf(uint64(w.seed), domRecast, uint64(p.id))
		b = append(b, `,"recast_reason":`...)
		b = appendString(b, recastReasons[rh%uint64(len(recastReasons))])
		b = append(b, `,"recast_rule_uuid":"`...)
		b = appendUUID(b, rh, mix64(rh))
		b = append(b, '"')
	}
	b = append(b, `,"first_found":`...)
	b = appendTime(b, f.firstFound)
	b = append(b, `,"last_found":`...)
	b = appendTime(b, f.lastFound)
	if f.lastFixed != 0 {
		b = append(b, `,"last_fixed":`...)
		b = appendTime(b, f.lastFixed)
	}
	b = append(b, `,"state":"`...)
	b = append(b, stateNames[f.state]...)
	b = append(b, `","indexed":`...)
	b = appendTime(b, f.indexed)
	b = append(b, `,"source":"`...)
	b = append(b, findingSources[f.source]...)
	b = append(b, `","finding_id":"`...)
	fh := findingHash(w, a, p, f)
	b = appendUUID(b, fh, mix64(fh))
	b = append(b, '"')
	if f.resurfaced != 0 {
		b = append(b, `,"resurfaced_date":`...)
		b = appendTime(b, f.resurfaced)
	}
	if f.state == stateFixed {
		b = append(b, `,"time_taken_to_fix":"`...)
		b = strconv.AppendInt(b, (f.lastFixed-f.firstFound)/1000, 10)
		b = append(b, '"')
	}
	return append(b, '}')
}

// findingHash derives the stable finding_id from the finding's identity.
func findingHash(w *world, a *asset, p *plugin, f *finding) uint64 {
	return hashOf(uint64(w.seed), domFinding, strHash(a.id), uint64(p.id), uint64(f.port), uint64(f.proto))
}

// scanDuration is how long the scan that ended at t ran.
func scanDuration(sched uint16, t int64) int64 {
	return 5*60000 + int64(hashOf(uint64(sched), uint64(t))%uint64(55*60000))
}

func appendPlaceholder(b []byte, a *asset, f *finding, ph int8) []byte {
	switch ph {
	case phPort:
		return strconv.AppendUint(b, uint64(f.port), 10)
	case phIP:
		return appendEscaped(b, first(a.ipv4s))
	case phOS:
		return appendEscaped(b, first(a.os))
	case phFQDN:
		return appendEscaped(b, firstOf(a.fqdns, a.hostnames, a.ipv4s))
	case phNetBIOS:
		return appendEscaped(b, firstOf(a.netbios, a.hostnames))
	case phMAC:
		return appendEscaped(b, first(a.macs))
	case phSvc:
		if f.svc >= 0 {
			return appendEscaped(b, services[f.svc].name)
		}
		return b
	case phCPE:
		return appendEscaped(b, cpeOf(a))
	case phSysType:
		return appendEscaped(b, first(a.systemTypes))
	}
	return b
}

func cpeOf(a *asset) string {
	switch a.profile {
	case profWinServer, profWinWorkstation:
		return "cpe:/o:microsoft:windows"
	case profUbuntu:
		return "cpe:/o:canonical:ubuntu_linux"
	case profRHEL:
		return "cpe:/o:redhat:enterprise_linux"
	case profDebian:
		return "cpe:/o:debian:debian_linux"
	case profAmazonLinux:
		return "cpe:/o:amazon:linux"
	case profMacOS:
		return "cpe:/o:apple:mac_os_x"
	case profCiscoIOS:
		return "cpe:/o:cisco:ios"
	case profESXi:
		return "cpe:/o:vmware:esxi"
	}
	return "cpe:/h:hp:jetdirect"
}
