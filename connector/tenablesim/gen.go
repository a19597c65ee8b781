package tenablesim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

const (
	hourMs = int64(3600000)
	weekMs = 7 * dayMs
)

// world holds what generation and Advance draw from besides the tenant itself:
// lookup tables over the plugin catalogue, tag definitions, scan schedules.
type world struct {
	seed      int64
	tagDefs   []tagDef
	users     []string
	schedules []string // schedule UUIDs
	checks    [][]*check

	hostInfo  [numProfiles][]int32 // informational host-level plugins
	eachPort  [numProfiles][]int32 // plugins reported once per open port
	svcInfo   [][]int32            // plugins bound to one service, by service index
	vulnHost  [numProfiles][]int32 // vulnerability plugins at host level
	vulnSvc   [][]int32            // vulnerability plugins bound to a service
	pluginIdx map[int]int32        // plugin id -> index (lookups only)
}

func newWorld(seed int64, plugins []*plugin, start int64) *world {
	w := &world{seed: seed, svcInfo: make([][]int32, len(services)), vulnSvc: make([][]int32, len(services)), pluginIdx: map[int]int32{}}
	for i := range 4 {
		w.users = append(w.users, uuidOf(uint64(seed), domUser, uint64(i)))
	}
	for ci, c := range tagCategories {
		for vi, v := range c.values {
			w.tagDefs = append(w.tagDefs, tagDef{
				uuid: uuidOf(uint64(seed), domTag, uint64(ci), uint64(vi)), key: c.key, value: v,
				addedBy: w.users[(ci+vi)%len(w.users)],
			})
		}
	}
	for i := range 16 {
		h := hashOf(uint64(seed), domSchedule, uint64(i))
		w.schedules = append(w.schedules, "template-"+string(appendUUID(nil, h, mix64(h)))+hex32(h)[:16])
	}
	for _, p := range plugins {
		w.pluginIdx[p.id] = p.idx
		for _, port := range p.ports {
			for prof := range numProfiles {
				if p.profiles&(1<<prof) == 0 {
					continue
				}
				switch {
				case port == portHost && p.cves == nil && p.sev <= 1:
					w.hostInfo[prof] = append(w.hostInfo[prof], p.idx)
				case port == portHost:
					w.vulnHost[prof] = append(w.vulnHost[prof], p.idx)
				case port == portEachTCP || port == portEachAll:
					w.eachPort[prof] = append(w.eachPort[prof], p.idx)
				}
			}
			if port >= 0 {
				if len(p.cves) > 0 && p.share < 0.5 && p.id >= 100000 {
					w.vulnSvc[port] = append(w.vulnSvc[port], p.idx)
				} else {
					w.svcInfo[port] = append(w.svcInfo[port], p.idx)
				}
			}
		}
	}
	w.checks = buildChecks()
	return w
}

// assetRand returns the random stream of one generation step of one asset.
func assetRand(seed int64, step, seq int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x2545f4914f6cdd1d, hashOf(domAsset, uint64(step), uint64(seq))))
}

// genTenant creates the initial tenant.
func genTenant(seed int64, nAssets, nPlugins int, start int64) (*tenant, *world) {
	plugins := genPlugins(seed, nPlugins, start)
	w := newWorld(seed, plugins, start)
	t := &tenant{now: start, plugins: plugins, assets: make([]*asset, 0, nAssets)}
	for i := range nAssets {
		r := assetRand(seed, 0, int64(i))
		a := w.genAsset(r, int64(i), start, 0)
		w.genFindings(r, a, plugins, start)
		w.genCompliance(r, a)
		a.finish(w, plugins)
		t.assets = append(t.assets, a)
	}
	return t, w
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// genAsset draws one asset. created is the creation time, or 0 to draw a past one.
func (w *world) genAsset(r *rand.Rand, seq int64, now, created int64) *asset {
	weights := make([]int, len(profiles))
	for i, p := range profiles {
		weights[i] = p.weight
	}
	prof := pickWeighted(r, weights)
	pr := &profiles[prof]
	a := &asset{seq: seq, profile: int8(prof), hasPluginResults: true, sched: int16(r.IntN(len(w.schedules)))}
	h := hashOf(uint64(w.seed), domAsset, uint64(seq))
	a.id = string(appendUUID(nil, h, mix64(h^0xabcdef)))

	// Times.
	if created == 0 {
		created = now - int64(1+r.IntN(720))*dayMs - int64(r.IntN(86400000))
	}
	a.created = created
	a.firstSeen = created - int64(r.IntN(60000))
	a.firstScan = a.firstSeen
	switch x := r.IntN(100); {
	case created >= now-dayMs:
		a.lastScan = a.firstScan
	case x < 75:
		a.lastScan = now - int64(r.Int64N(7*dayMs))
	case x < 90:
		a.lastScan = now - 7*dayMs - r.Int64N(23*dayMs)
	default:
		a.lastScan = now - 30*dayMs - r.Int64N(150*dayMs)
	}
	if a.lastScan < a.firstScan {
		a.lastScan = a.firstScan
	}
	a.lastSeen = a.lastScan
	a.updated = a.lastScan + 10000 + r.Int64N(300000)
	if a.updated > now {
		a.updated = now
	}
	a.isLicensed = r.IntN(100) < 95
	if a.isLicensed {
		a.lastLicensed = a.lastScan
	}

	// Network identity.
	a.network = int8(pickWeighted(r, []int{90, 7, 3}))
	host := strconv.Itoa(int(seq%250) + 2)
	third := strconv.Itoa(int(seq/250) % 256)
	var ip string
	switch a.network {
	case 1:
		ip = "172." + strconv.Itoa(16+int(seq/64000)%16) + "." + third + "." + host
	case 2:
		ip = "192.168." + third + "." + host
	default:
		ip = "10." + strconv.Itoa(16+prof*8+int(seq/64000)%8) + "." + third + "." + host
	}
	a.ipv4s = []string{ip}
	if r.IntN(100) < 12 {
		a.ipv4s = append(a.ipv4s, "192.168."+strconv.Itoa(100+r.IntN(50))+"."+strconv.Itoa(2+r.IntN(250)))
	}
	if r.IntN(100) < 20 {
		a.ipv6s = []string{"fd12:3456:789a:" + strconv.FormatInt(int64(1+r.IntN(200)), 16) + "::" + strconv.FormatUint(h&0xffff, 16) + ":" + strconv.FormatUint(h>>16&0xffff, 16)}
	}
	name := pick(r, pr.hostPrefix) + "-" + strconv.Itoa(int(seq%10000)) + string(rune('a'+r.IntN(26)))
	dom := pick(r, domains)
	a.cloud = cloudNone
	if r.Float64() < pr.cloudShare {
		a.cloud = int8(1 + pickWeighted(r, []int{60, 25, 15}))
		if prof == profAmazonLinux {
			a.cloud = cloudAWS
		}
	}
	switch a.cloud {
	case cloudAWS:
		name = "ip-" + strings.ReplaceAll(ip, ".", "-")
		a.fqdns = []string{name + ".ec2.internal"}
		a.hostnames = []string{name}
	default:
		a.hostnames = []string{name}
		if r.IntN(100) < 85 {
			a.fqdns = []string{name + "." + dom}
		}
	}
	if pr.netbios {
		nb := strings.ToUpper(name)
		if len(nb) > 15 {
			nb = nb[:15]
		}
		a.netbios = []string{nb}
		a.workgroup = "CORP"
	}
	oui := map[int]string{profMacOS: "f0:18:98", profCiscoIOS: "00:1b:54", profPrinter: "3c:2a:f4"}[prof]
	if oui == "" {
		oui = pick(r, []string{"00:50:56", "00:15:5d", "3c:ec:ef", "a4:bb:6d"})
	}
	nmac := 1
	if prof == profCiscoIOS || prof == profESXi {
		nmac = 2 + r.IntN(4)
	}
	for k := range nmac {
		m := mix64(h + uint64(k))
		a.macs = append(a.macs, oui+":"+hex2(m)+":"+hex2(m>>8)+":"+hex2(m>>16))
	}
	a.os = []string{pick(r, pr.os)}
	a.systemTypes = []string{pr.systemType}
	if a.cloud == cloudAWS && prof != profAmazonLinux {
		a.systemTypes = []string{"aws-ec2-instance"}
	} else if a.cloud == cloudAzure {
		a.systemTypes = []string{"azure-instance"}
	} else if a.cloud == cloudGCP {
		a.systemTypes = []string{"gcp-instance"}
	}
	if prof <= profMacOS || prof == profESXi {
		if r.IntN(100) < 80 {
			a.bios = uuidOf(h, 0xb105)
		}
		if strings.HasPrefix(oui, "00:50:56") {
			u := strings.ReplaceAll(uuidOf(h, 0x5e41), "-", "")
			a.serial = "VMware-" + spaced(u[:16]) + "-" + spaced(u[16:])
		} else {
			a.serial = strings.ToUpper(hex32(h, 0x5e41)[:11])
		}
	} else if r.IntN(2) == 0 {
		a.serial = strings.ToUpper(hex32(h, 0x5e42)[:10])
	}

	// Agent and authentication.
	if r.Float64() < pr.agentShare {
		a.hasAgent = true
		a.agentUUID = hex32(uint64(w.seed), domAgent, uint64(seq))
		a.agentNames = []string{name}
	}
	if r.IntN(100) < 72 || a.hasAgent {
		a.lastAuthScan = a.lastScan - r.Int64N(2*dayMs)
		if a.lastAuthScan < a.firstScan {
			a.lastAuthScan = a.firstScan
		}
		a.authAttempt, a.authSuccess, a.authStatus = a.lastAuthScan, a.lastAuthScan, "Success"
	} else if r.IntN(3) == 0 {
		a.authAttempt, a.authStatus = a.lastScan, "Failure"
	} else {
		a.authStatus = "N/A"
	}
	if a.authStatus == "N/A" && prof == profCiscoIOS {
		a.authStatus = "N/A"
	}

	// Services.
	for _, s := range pr.services {
		a.ports = append(a.ports, openPort{svc: int8(s)})
	}
	for _, s := range pr.optServices {
		if r.IntN(100) < 30 {
			a.ports = append(a.ports, openPort{svc: int8(s)})
		}
	}
	for k := range a.ports {
		a.ports[k].first = a.firstScan
		a.ports[k].last = a.lastScan
	}
	if hasService(a, svcSSH) && r.IntN(2) == 0 {
		a.sshFingerprints = []string{"ecdsa-sha2-nistp256 SHA256:" + b64ish(h)}
	}
	for _, sw := range pr.software {
		if r.IntN(100) < 60 {
			a.software = append(a.software, sw)
		}
	}

	// Cloud.
	if a.cloud != cloudNone {
		c := &cloudInfo{}
		switch a.cloud {
		case cloudAWS:
			c.region = pick(r, awsRegions)
			c.zone = c.region + string(rune('a'+r.IntN(3)))
			c.amiID = "ami-" + hex32(h, 1)[:17]
			c.instanceID = "i-" + hex32(h, 2)[:17]
			c.ownerID = strconv.Itoa(100000000000 + int(h%899999999999))
			c.vpcID = "vpc-" + hex32(uint64(w.seed), uint64(a.network), 3)[:17]
			c.subnetID = "subnet-" + hex32(uint64(w.seed), uint64(a.network), 4)[:17]
			c.groupName = pick(r, []string{"launch-wizard-12", "web-sg", "default", "eks-node-sg"})
			c.stateName = "running"
			c.instanceType = pick(r, awsInstanceTypes)
			c.ec2Name = pick(r, []string{"prod-", "stage-", "dev-"}) + name
			a.resourceTags = []keyValue{{"Name", c.ec2Name}, {"Environment", pick(r, []string{"prod", "staging", "dev"})}}
		case cloudAzure:
			c.vmID = uuidOf(h, 5)
			c.resourceID = "/subscriptions/" + uuidOf(uint64(w.seed), 6) + "/resourcegroups/" + pick(r, azureGroups) + "/providers/microsoft.compute/virtualmachines/" + name
			a.resourceTags = []keyValue{{"owner", pick(r, []string{"platform", "data", "web"})}, {"costcenter", strconv.Itoa(1000 + r.IntN(9000))}}
		case cloudGCP:
			c.projectID = pick(r, gcpProjects)
			c.gcpZone = pick(r, gcpZones)
			c.gcpInstanceID = strconv.FormatUint(1e18+h%8e18, 10)
			a.resourceTags = []keyValue{{"goog-managed-by", "terraform"}, {"env", pick(r, []string{"prod", "dev"})}}
		}
		a.cloudF = c
		a.isPublic = r.IntN(4) == 0
	}

	// Third-party identifiers.
	if r.IntN(100) < 20 {
		a.servicenow = hex32(h, 7)
	}
	if r.IntN(100) < 8 && prof <= profWinWorkstation {
		a.mcafeeGUID = strings.ToUpper(uuidOf(h, 8))
		a.mcafeeAgentGUID = strings.ToUpper(uuidOf(h, 9))
	}
	if r.IntN(100) < 4 {
		a.bigfix = strconv.Itoa(1000000 + int(h%9000000))
	}

	// Sources.
	if !a.hasAgent || r.IntN(3) > 0 {
		a.sources = append(a.sources, assetSource{"NESSUS_SCAN", a.firstScan, a.lastScan})
	}
	if a.hasAgent {
		a.sources = append(a.sources, assetSource{"NESSUS_AGENT", a.firstScan + r.Int64N(dayMs), a.lastScan})
	}
	switch a.cloud {
	case cloudAWS:
		a.sources = append(a.sources, assetSource{"AWS", a.created, a.lastScan})
	case cloudAzure:
		a.sources = append(a.sources, assetSource{"AZURE", a.created, a.lastScan})
	case cloudGCP:
		a.sources = append(a.sources, assetSource{"GCP", a.created, a.lastScan})
	}
	if r.IntN(100) < 10 {
		a.sources = append(a.sources, assetSource{"PVS", a.firstSeen, a.lastScan - r.Int64N(3*dayMs)})
	}
	for k := range a.sources {
		if a.sources[k].last < a.sources[k].first {
			a.sources[k].last = a.sources[k].first
		}
	}

	// Tags: at most one value per category.
	for ci, c := range tagCategories {
		if r.IntN(100) < 35 {
			vi := r.IntN(len(c.values))
			def := 0
			for k := range ci {
				def += len(tagCategories[k].values)
			}
			a.tags = append(a.tags, assetTag{def: int32(def + vi), addedAt: a.created + r.Int64N(30*dayMs)})
		}
	}
	for k := range a.tags {
		if a.tags[k].addedAt > now {
			a.tags[k].addedAt = now
		}
	}

	// Interfaces.
	ifname := "eth0"
	switch {
	case prof <= profWinWorkstation:
		ifname = "Ethernet0"
	case prof == profMacOS:
		ifname = "en0"
	case prof == profRHEL:
		ifname = "ens192"
	case prof == profCiscoIOS:
		ifname = "GigabitEthernet0/0"
	}
	a.ifaces = []netIface{{name: ifname, macs: a.macs[:1], ipv4s: a.ipv4s[:1], ipv6s: a.ipv6s, fqdns: a.fqdns}}
	if len(a.ipv4s) > 1 || len(a.macs) > 1 {
		a.ifaces = append(a.ifaces, netIface{name: "UNKNOWN", macs: a.macs, ipv4s: a.ipv4s, fqdns: a.fqdns})
	}

	// Lifecycle: a few assets were deleted, a few cloud assets terminated.
	if created < now-7*dayMs {
		if r.IntN(1000) < 20 {
			a.deleted = a.lastSeen + r.Int64N(max(1, now-a.lastSeen))
			a.deletedBy = w.users[r.IntN(len(w.users))]
			a.updated = a.deleted
		} else if a.cloud != cloudNone && r.IntN(100) < 6 {
			a.terminated = a.lastSeen + r.Int64N(max(1, now-a.lastSeen))
			a.terminatedBy = pick(r, []string{"AWS Connector", "Azure Connector", "GCP Connector"})
			a.updated = a.terminated
			if a.cloudF != nil && a.cloud == cloudAWS {
				cp := *a.cloudF
				cp.stateName = "terminated"
				a.cloudF = &cp
			}
		}
	}
	return a
}

func hasService(a *asset, svc int) bool {
	for _, p := range a.ports {
		if int(p.svc) == svc {
			return true
		}
	}
	return false
}

func hex2(v uint64) string {
	return string([]byte{hexDigits[v>>4&0xf], hexDigits[v&0xf]})
}

func spaced(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(s[i : i+2])
	}
	return sb.String()
}

func b64ish(h uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var sb strings.Builder
	for i := range 43 {
		h = mix64(h + uint64(i))
		sb.WriteByte(alphabet[h%64])
	}
	return sb.String()
}

// scanTime is the time of the asset's j-th most recent scan (0 = last scan).
func scanTime(a *asset, j int) int64 {
	if j == 0 {
		return a.lastScan
	}
	jitter := int64(hashOf(uint64(a.seq), uint64(j)) % uint64(6*hourMs))
	t := a.lastScan - int64(j)*weekMs - jitter
	if t < a.firstScan {
		t = a.firstScan
	}
	return t
}

func numScans(a *asset) int {
	return 1 + int((a.lastScan-a.firstScan)/weekMs)
}

// findingKey identifies a finding within its asset.
type findingKey struct {
	plugin int32
	port   uint16
	proto  uint8
}

// genFindings draws the asset's findings from the plugin catalogue.
func (w *world) genFindings(r *rand.Rand, a *asset, plugins []*plugin, now int64) {
	seen := map[findingKey]bool{}
	prof := int(a.profile)
	add := func(pi int32, svc int) {
		p := plugins[pi]
		k := findingKey{plugin: pi}
		if svc >= 0 {
			k.port, k.proto = services[svc].port, services[svc].proto
		}
		if seen[k] {
			return
		}
		seen[k] = true
		a.findings = append(a.findings, w.newFinding(r, a, p, k, int8(svc)))
	}
	for _, pi := range w.hostInfo[prof] {
		if r.Float64() < plugins[pi].share {
			add(pi, -1)
		}
	}
	for _, op := range a.ports {
		svc := int(op.svc)
		for _, pi := range w.eachPort[prof] {
			p := plugins[pi]
			if p.ports[0] == portEachTCP && services[svc].proto != protoTCP {
				continue
			}
			if r.Float64() < p.share {
				add(pi, svc)
			}
		}
		for _, pi := range w.svcInfo[svc] {
			p := plugins[pi]
			if p.profiles&(1<<prof) != 0 && r.Float64() < p.share {
				add(pi, svc)
			}
		}
	}
	// Vulnerabilities: a host's patch hygiene scales how many it has.
	hygiene := math.Exp(r.NormFloat64() * 0.7)
	n := int(math.Round(8 * profiles[prof].findingMul * hygiene))
	cands := w.vulnHost[prof]
	var svcCands []struct {
		pi  int32
		svc int
	}
	for _, op := range a.ports {
		for _, pi := range w.vulnSvc[op.svc] {
			if plugins[pi].profiles&(1<<prof) != 0 {
				svcCands = append(svcCands, struct {
					pi  int32
					svc int
				}{pi, int(op.svc)})
			}
		}
	}
	for range n {
		if len(svcCands) > 0 && (len(cands) == 0 || r.IntN(100) < 20) {
			c := svcCands[r.IntN(len(svcCands))]
			add(c.pi, c.svc)
		} else if len(cands) > 0 {
			add(cands[r.IntN(len(cands))], -1)
		}
	}
	sortFindings(a.findings, plugins)
}

// sortFindings orders an asset's findings by plugin id, port, protocol.
func sortFindings(fs []finding, plugins []*plugin) {
	sortSlice(fs, func(x, y finding) bool {
		if x.plugin != y.plugin {
			return plugins[x.plugin].id < plugins[y.plugin].id
		}
		if x.port != y.port {
			return x.port < y.port
		}
		return x.proto < y.proto
	})
}

// newFinding draws the history of one finding from the asset's scans.
func (w *world) newFinding(r *rand.Rand, a *asset, p *plugin, k findingKey, svc int8) finding {
	f := finding{plugin: p.idx, port: k.port, proto: k.proto, svc: svc, sev: uint8(p.sev), sched: uint16(a.sched)}
	if a.hasAgent && p.typ == "local" && r.IntN(100) < 60 {
		f.source = srcAgent
	} else if r.IntN(100) < 3 {
		f.source = srcNNM
	}
	n := numScans(a)
	jf := r.IntN(n)
	if r.IntN(100) < 40 {
		jf = r.IntN(min(n, 4))
	}
	f.firstFound = scanTime(a, jf)
	switch x := r.IntN(100); {
	case x < 22 && jf >= 1:
		jfix := r.IntN(jf)
		f.state = stateFixed
		f.lastFixed = scanTime(a, jfix)
		f.lastFound = scanTime(a, jfix+1)
	case x < 27 && jf >= 2:
		jfix := 1 + r.IntN(jf-1)
		jres := r.IntN(jfix)
		f.state = stateReopened
		f.lastFixed = scanTime(a, jfix)
		f.resurfaced = scanTime(a, jres)
		f.lastFound = a.lastScan
	default:
		f.state = stateOpen
		f.lastFound = a.lastScan
	}
	if f.lastFound < f.firstFound {
		f.lastFound = f.firstFound
	}
	f.indexed = f.eventTime() + 5000 + r.Int64N(15*60000)
	if p.sev > 0 {
		switch x := r.IntN(1000); {
		case x < 20:
			f.mod = modRecasted
			if r.IntN(2) == 0 && f.sev < 4 {
				f.sev++
			} else {
				f.sev--
			}
		case x < 30:
			f.mod = modAccepted
		}
	}
	return f
}

// genCompliance gives a share of servers the results of their audit file.
func (w *world) genCompliance(r *rand.Rand, a *asset) {
	ai := profiles[a.profile].compliance
	if ai < 0 || r.IntN(100) >= 55 || a.lastAuthScan == 0 {
		return
	}
	first := a.firstScan + r.Int64N(max(1, a.lastAuthScan-a.firstScan+1))
	for ci := range w.checks[ai] {
		c := compResult{audit: uint8(ai), check: uint16(ci), firstSeen: first, lastSeen: a.lastAuthScan, lastObserved: a.lastAuthScan}
		c.status = uint8(pickWeighted(r, []int{55, 35, 5, 3, 2, 0}))
		switch {
		case c.status == compPassed && r.IntN(100) < 12 && a.lastAuthScan > first:
			c.state = stateFixed
			c.lastFixed = first + r.Int64N(a.lastAuthScan-first)
		case c.status == compFailed && r.IntN(100) < 6:
			c.state = stateReopened
		default:
			c.state = stateOpen
		}
		c.indexed = c.lastSeen + 30000 + r.Int64N(20*60000)
		a.compliance = append(a.compliance, c)
	}
}

// finish computes derived fields and renders the asset's fragments.
func (a *asset) finish(w *world, plugins []*plugin) {
	base := map[int]int{profWinServer: 8, profRHEL: 8, profUbuntu: 7, profDebian: 7, profAmazonLinux: 7, profESXi: 9, profCiscoIOS: 8, profPrinter: 4, profMacOS: 5, profWinWorkstation: 5}[int(a.profile)]
	a.acr = max(1, min(10, base+int(hashOf(uint64(a.seq), 0xac)%3)-1))
	maxSev, open := 0, 0
	for i := range a.findings {
		f := &a.findings[i]
		if f.state != stateFixed && f.sev > 0 {
			open++
			maxSev = max(maxSev, int(f.sev))
		}
	}
	a.aes = min(999, a.acr*maxSev*22+open*3)
	a.hasPluginResults = len(a.findings) > 0 || a.hasPluginResults && a.lastScan > 0
	a.render(w)
}
