package tenablesim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// plugin is one entry of the plugin catalogue with its pre-rendered fragments.
type plugin struct {
	idx      int32
	id       int
	name     string
	family   string
	familyID int
	typ      string
	version  string

	synopsis, description, solution string
	seeAlso                         []string
	sev                             int // default severity id
	pubDate, modDate                int64
	patchDate, vulnDate             int64

	v2 *cvss2
	v3 *cvss3
	v4 *cvss4

	vprScore     float64 // 0 = no VPR
	vprMaturity  string
	vprIntensity string
	vprAgeLow    int
	vprAgeHigh   int
	vprCoverage  string
	vprSources   []string
	vprUpdated   int64
	vpr2Score    float64
	vpr2Pct      float64
	vpr2Prob     float64
	cisaKEV      bool
	epss         float64 // percentage 0-100; 0 = none

	cves       []string
	bids       []int
	cpes       []string
	xrefs      []keyValue // type, id
	msBulletin []string

	exploitAvailable, metasploit, canvas, core, malware, inNews bool
	unsupported, hasPatch, nessusExploit, defaultAccount        bool
	exploitEase, metasploitName, stig                           string

	// Where findings of this plugin appear.
	ports    []int // service indexes, portHost or portEach*
	profiles int
	share    float64

	output []outSeg

	frag    []byte // the "plugin" object of vuln records
	apiFrag []byte // the item of GET /plugins/plugin
}

// Placeholders in plugin output templates, filled per finding.
const (
	phNone = iota
	phPort
	phIP
	phOS
	phFQDN
	phNetBIOS
	phMAC
	phSvc
	phCPE
	phSysType
)

var placeholders = []struct {
	text string
	ph   int8
}{
	{"{port}", phPort}, {"{ip}", phIP}, {"{os}", phOS}, {"{fqdn}", phFQDN}, {"{netbios}", phNetBIOS},
	{"{mac}", phMAC}, {"{svc}", phSvc}, {"{cpe}", phCPE}, {"{systype}", phSysType},
}

// outSeg is a piece of an output template: escaped literal text or a placeholder.
type outSeg struct {
	lit []byte
	ph  int8
}

// parseOutput splits an output template into escaped literals and placeholders.
func parseOutput(tmpl string) []outSeg {
	var segs []outSeg
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, outSeg{lit: appendEscaped(nil, lit.String())})
			lit.Reset()
		}
	}
	for i := 0; i < len(tmpl); {
		matched := false
		if tmpl[i] == '{' {
			for _, p := range placeholders {
				if strings.HasPrefix(tmpl[i:], p.text) {
					flush()
					segs = append(segs, outSeg{ph: p.ph})
					i += len(p.text)
					matched = true
					break
				}
			}
		}
		if !matched {
			lit.WriteByte(tmpl[i])
			i++
		}
	}
	flush()
	return segs
}

var familyIDs = []struct {
	name string
	id   int
}{
	{"CGI abuses", 3}, {"DNS", 8}, {"FTP", 9}, {"Web Servers", 11}, {"General", 12}, {"Ubuntu Local Security Checks", 14},
	{"Debian Local Security Checks", 16}, {"CISCO", 18}, {"Windows", 20}, {"MacOS X Local Security Checks", 21},
	{"Misc.", 24}, {"SNMP", 26}, {"Service detection", 27}, {"Settings", 29}, {"Red Hat Local Security Checks", 30},
	{"Databases", 31}, {"Windows : Microsoft Bulletins", 41}, {"Port scanners", 42}, {"VMware ESX Local Security Checks", 43},
	{"Policy Compliance", 49}, {"Amazon Linux Local Security Checks", 52},
}

func familyID(name string) int {
	for _, f := range familyIDs {
		if f.name == name {
			return f.id
		}
	}
	return 24
}

const dayMs = int64(86400000)

// genPlugins builds the catalogue: the core informational plugins first, then
// generated vulnerability plugins up to n, ordered by plugin id.
func genPlugins(seed int64, n int, start int64) []*plugin {
	r := rand.New(rand.NewPCG(uint64(seed), 0x91c3a7d2))
	var ps []*plugin
	byID := map[int]*plugin{}
	for _, c := range corePlugins {
		if p, ok := byID[c.id]; ok {
			p.ports = append(p.ports, c.port)
			continue
		}
		p := &plugin{
			id: c.id, name: c.name, family: c.family, familyID: familyID(c.family), typ: c.typ,
			synopsis: c.synopsis, sev: c.sev, ports: []int{c.port}, profiles: c.profiles, share: c.share,
			output: parseOutput(c.output),
		}
		p.description = describeInfo(c.name, c.synopsis)
		p.solution = "n/a"
		if c.sev > 0 {
			p.solution = "Review the service configuration and apply the vendor's hardening guidance."
		}
		p.pubDate = start - int64(2000+r.IntN(6000))*dayMs
		p.modDate = p.pubDate + int64(r.Float64()*float64(start-p.pubDate-30*dayMs))
		p.version = "1." + strconv.Itoa(10+r.IntN(200))
		p.seeAlso = nil
		if c.sev > 0 {
			p.seeAlso = []string{"https://www.tenable.com/plugins/nessus/" + strconv.Itoa(c.id)}
			p.vulnDate = p.pubDate - int64(30+r.IntN(600))*dayMs
			p.v3 = randomCVSS3(r, c.sev, false)
			p.v2 = cvss2For(r, p.v3)
			p.hasPatch = false
			if c.id == 97833 {
				p.cves = []string{"CVE-2017-0143", "CVE-2017-0144", "CVE-2017-0145", "CVE-2017-0146", "CVE-2017-0147", "CVE-2017-0148"}
				p.exploitAvailable, p.metasploit, p.malware, p.inNews, p.hasPatch = true, true, true, true, true
				p.metasploitName = "MS17-010 EternalBlue SMB Remote Windows Kernel Pool Corruption"
				p.msBulletin = []string{"MS17-010"}
			}
			if p.hasPatch {
				p.patchDate = p.vulnDate + int64(1+r.IntN(20))*dayMs
			}
			if c.id == 187315 {
				p.cves = []string{"CVE-2023-48795"}
			}
		}
		byID[c.id] = p
		ps = append(ps, p)
	}
	used := map[int]bool{}
	for _, p := range ps {
		used[p.id] = true
	}
	weights := make([]int, len(vulnTemplates))
	for i, t := range vulnTemplates {
		weights[i] = t.weight
	}
	nextID := 100000
	for len(ps) < n {
		nextID += 20 + r.IntN(90)
		for used[nextID] {
			nextID++
		}
		used[nextID] = true
		t := &vulnTemplates[pickWeighted(r, weights)]
		ps = append(ps, genVulnPlugin(r, t, nextID, start))
	}
	if len(ps) > n {
		ps = ps[:n]
	}
	sortPlugins(ps)
	for i, p := range ps {
		p.idx = int32(i)
		p.render()
	}
	return ps
}

func sortPlugins(ps []*plugin) {
	// insertion-free: plugins are few, use the standard sort on ids
	sortSlice(ps, func(a, b *plugin) bool { return a.id < b.id })
}

func describeInfo(name, synopsis string) string {
	return synopsis + "\n\nThis plugin (" + name + ") reports information gathered during the scan. It does not indicate a vulnerability by itself."
}

// fill replaces the name placeholders of a vulnerability template.
func fill(r *rand.Rand, s string, product string, kb, n int, when int64) string {
	if !strings.Contains(s, "{") {
		return s
	}
	t := timeOf(when)
	repl := strings.NewReplacer(
		"{p}", product,
		"{kb}", strconv.Itoa(kb),
		"{m}", months[int(t.Month())-1]+" "+strconv.Itoa(t.Year()),
		"{n5}", strconv.Itoa(10000+n%90000),
		"{n}", strconv.Itoa(n),
		"{v1}", strconv.Itoa(1+r.IntN(9)),
		"{v2}", strconv.Itoa(10+r.IntN(60)),
		"{v3}", strconv.Itoa(100+r.IntN(32)),
	)
	return repl.Replace(s)
}

func genVulnPlugin(r *rand.Rand, t *vulnTemplate, id int, start int64) *plugin {
	sev := 1 + pickWeighted(r, []int{12, 45, 30, 13})
	p := &plugin{
		id: id, family: t.family, familyID: t.familyID, typ: t.typ, sev: sev,
		ports: []int{t.port}, profiles: t.profiles,
	}
	product := ""
	if len(t.products) > 0 {
		product = t.products[r.IntN(len(t.products))]
	}
	kb := 5030000 + r.IntN(20000)
	n := 1000 + r.IntN(8999)
	p.vulnDate = start - int64(30+r.IntN(1800))*dayMs
	p.patchDate = p.vulnDate + int64(r.IntN(20))*dayMs
	p.pubDate = p.patchDate + int64(1+r.IntN(14))*dayMs
	if p.pubDate > start-2*dayMs {
		p.pubDate = start - 2*dayMs
	}
	p.modDate = p.pubDate + int64(r.Float64()*float64(start-p.pubDate-dayMs))
	p.name = fill(r, t.names[r.IntN(len(t.names))], product, kb, n, p.vulnDate)
	p.synopsis = t.synopsis
	p.solution = fill(r, t.solution, product, kb, n, p.vulnDate)
	p.seeAlso = []string{strings.ReplaceAll(t.seeAlso, "{n}", strconv.Itoa(n))}
	if r.IntN(3) == 0 {
		p.seeAlso = append(p.seeAlso, "http://www.nessus.org/u?"+hex32(uint64(id))[:8])
	}
	p.version = "1." + strconv.Itoa(1+r.IntN(30))
	p.hasPatch = true
	p.share = 0.02 + r.Float64()*0.25
	p.v3 = randomCVSS3(r, sev, t.typ == "local")
	p.v2 = cvss2For(r, p.v3)
	if r.IntN(3) > 0 {
		p.v4 = cvss4For(r, p.v3)
	}
	year := timeOf(p.vulnDate).Year()
	ncve := 1 + r.IntN(8)
	if r.IntN(6) == 0 {
		ncve += 10 + r.IntN(30)
	}
	for i := 0; i < ncve; i++ {
		p.cves = append(p.cves, "CVE-"+strconv.Itoa(year)+"-"+strconv.Itoa(20000+r.IntN(50000)))
	}
	p.cves = dedupe(p.cves)
	if year < 2021 && r.IntN(2) == 0 {
		p.bids = []int{90000 + r.IntN(20000)}
	}
	p.cpes = []string{t.cpe}
	p.xrefs = []keyValue{{t.xrefType, xrefID(t.xrefType, n, kb, year)}}
	if r.IntN(3) == 0 {
		p.xrefs = append(p.xrefs, keyValue{"IAVA", strconv.Itoa(year) + "-A-0" + strconv.Itoa(100+r.IntN(600))})
	}
	if t.family == "Windows : Microsoft Bulletins" {
		p.msBulletin = []string{strconv.Itoa(kb)}
		p.xrefs = append(p.xrefs, keyValue{"MSFT", "MS" + strconv.Itoa(year%100) + "-" + strconv.Itoa(kb)})
	}
	p.description = describeVuln(p, product)
	// Exploitability and threat intelligence.
	p.exploitAvailable = sev >= 3 && r.IntN(100) < 45 || r.IntN(100) < 8
	if p.exploitAvailable {
		p.exploitEase = "Exploits are available"
		p.metasploit = r.IntN(3) == 0
		p.canvas = r.IntN(10) == 0
		p.core = r.IntN(8) == 0
		if p.metasploit {
			p.metasploitName = strings.SplitN(p.name, " <", 2)[0] + " Remote Code Execution"
		}
	} else {
		p.exploitEase = "No known exploits are available"
	}
	p.malware = p.exploitAvailable && r.IntN(6) == 0
	p.inNews = sev >= 3 && r.IntN(12) == 0
	p.unsupported = r.IntN(40) == 0
	p.stig = []string{"", "III", "II", "I", "I"}[sev]
	p.vprScore = math.Max(0.1, math.Min(10, round1(p.v3.base-2.5+r.Float64()*3)))
	p.vprMaturity = exploitMaturities[p.v3.e]
	p.vprIntensity = threatIntensities[pickWeighted(r, []int{60, 20, 10, 7, 3})]
	age := int(start-p.vulnDate) / int(dayMs)
	switch {
	case age > 730:
		p.vprAgeLow, p.vprAgeHigh = 731, 0
	case age > 365:
		p.vprAgeLow, p.vprAgeHigh = 366, 730
	case age > 180:
		p.vprAgeLow, p.vprAgeHigh = 181, 365
	case age > 60:
		p.vprAgeLow, p.vprAgeHigh = 61, 180
	default:
		p.vprAgeLow, p.vprAgeHigh = 0, 60
	}
	p.vprCoverage = productCoverages[r.IntN(len(productCoverages))]
	if p.vprIntensity == "VERY_LOW" {
		p.vprSources = []string{"No recorded events"}
	} else {
		p.vprSources = []string{threatSources[r.IntN(len(threatSources))]}
	}
	p.vprUpdated = start - int64(1+r.IntN(20))*dayMs + int64(r.IntN(86400))*1000
	p.vpr2Score = math.Max(0.1, math.Min(10, round1(p.vprScore-1+r.Float64()*2)))
	p.vpr2Pct = math.Round(p.vpr2Score*9.7*100+float64(r.IntN(300))) / 100
	if p.vpr2Pct > 100 {
		p.vpr2Pct = 99.99
	}
	p.vpr2Prob = math.Round(math.Pow(r.Float64(), 4)*1000) / 1000
	p.cisaKEV = p.exploitAvailable && sev >= 3 && r.IntN(5) == 0
	p.epss = math.Round(math.Pow(r.Float64(), 5)*100000) / 1000
	if p.epss == 0 {
		p.epss = 0.043
	}
	p.output = parseOutput(outputFor(r, t, p, product, kb))
	return p
}

func xrefID(typ string, n, kb, year int) string {
	switch typ {
	case "MSKB":
		return strconv.Itoa(kb)
	case "USN":
		return strconv.Itoa(n) + "-1"
	case "RHSA":
		return strconv.Itoa(year) + ":" + strconv.Itoa(n)
	case "CISCO-BUG-ID":
		return "CSCwh" + strconv.Itoa(10000+n)
	}
	return strconv.Itoa(year) + "-" + strconv.Itoa(n)
}

func describeVuln(p *plugin, product string) string {
	var sb strings.Builder
	sb.WriteString("The version of ")
	if product != "" {
		sb.WriteString(product)
	} else {
		sb.WriteString(strings.SplitN(p.name, " <", 2)[0])
	}
	sb.WriteString(" installed on the remote host is prior to the fixed version. It is, therefore, affected by multiple vulnerabilities as referenced in the advisory.\n\n")
	for i, c := range p.cves {
		if i == 3 {
			break
		}
		sb.WriteString("  - A flaw was found that could allow ")
		sb.WriteString([]string{"a remote attacker to execute arbitrary code", "a local user to escalate privileges", "an unauthenticated attacker to cause a denial of service", "an attacker to disclose sensitive information"}[i%4])
		sb.WriteString(". (" + c + ")\n\n")
	}
	sb.WriteString("Note that Nessus has not tested for these issues but has instead relied only on the application's self-reported version number.")
	return sb.String()
}

func outputFor(r *rand.Rand, t *vulnTemplate, p *plugin, product string, kb int) string {
	v1 := strconv.Itoa(1+r.IntN(9)) + "." + strconv.Itoa(r.IntN(20)) + "." + strconv.Itoa(r.IntN(50))
	v2 := v1 + "-" + strconv.Itoa(1+r.IntN(9))
	switch {
	case t.family == "Windows : Microsoft Bulletins":
		return "\nThe remote host is missing one of the following rollup KBs :\n  - " + strconv.Itoa(kb) + "\n\n  - C:\\Windows\\system32\\ntoskrnl.exe has not been patched.\n    Remote version : 10.0.17763." + strconv.Itoa(5000+r.IntN(1500)) + "\n    Should be      : 10.0.17763." + strconv.Itoa(6500+r.IntN(300)) + "\n"
	case t.typ == "local" && product != "":
		pkg := strings.ToLower(strings.ReplaceAll(product, " ", "-"))
		return "\nRemote package installed : " + pkg + "-" + v1 + "\nShould be                : " + pkg + "-" + v2 + "\n\nNOTE: The vulnerability information above was derived by checking the package versions of the affected packages against the vendor's advisory.\n"
	case t.typ == "local":
		return "\n  Path              : C:\\Program Files\\" + strings.SplitN(p.name, " ", 2)[0] + "\\\n  Installed version : " + v1 + "\n  Fixed version     : " + v2 + "\n"
	default:
		if t.port == svcHTTP || t.port == svcHTTPS {
			return "\n  URL               : https://{fqdn}:{port}/\n  Installed version : " + v1 + "\n  Fixed version     : " + v2 + "\n"
		}
		return "\n  Service           : {svc} ({port})\n  Installed version : " + v1 + "\n  Fixed version     : " + v2 + "\n"
	}
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// render pre-renders the plugin's vuln-record object and its plugin-API item.
func (p *plugin) render() {
	p.frag = p.renderVulnFrag()
	p.apiFrag = p.renderAPIFrag()
}

func (p *plugin) renderVulnFrag() []byte {
	b := make([]byte, 0, 2048)
	b = append(b, '{')
	if len(p.bids) > 0 {
		b = appendKey(b, "bid")
		b = append(b, '[')
		for i, v := range p.bids {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(v), 10)
		}
		b = append(b, ']')
	}
	b = appendBoolField(b, "checks_for_default_account", p.defaultAccount)
	b = appendBoolField(b, "checks_for_malware", false)
	b = appendOptStrArray(b, "cpe", p.cpes)
	b = appendOptStrArray(b, "cve", p.cves)
	if p.v3 != nil {
		b = appendFloatField(b, "cvss3_base_score", p.v3.base)
		b = appendFloatField(b, "cvss3_temporal_score", p.v3.temporal)
		b = appendKey(b, "cvss3_temporal_vector")
		b = appendVector(b, cvss3Temporal, []int{p.v3.e, p.v3.rl, p.v3.rc}, p.v3.tvector)
		b = appendKey(b, "cvss3_vector")
		b = appendVector(b, cvss3Metrics, []int{p.v3.av, p.v3.ac, p.v3.pr, p.v3.ui, p.v3.s, p.v3.c, p.v3.i, p.v3.a}, p.v3.vector)
	}
	if p.v4 != nil {
		b = appendFloatField(b, "cvss4_base_score", p.v4.base)
		b = appendKey(b, "cvss4_threat_vector")
		b = append(b, '{')
		b = appendFloatField(b, "threat_score", p.v4.threat)
		b = appendStrField(b, "exploit_maturity", p.v4.maturity)
		b = appendStrField(b, "raw", "CVSS:4.0/E:"+p.v4.mabbr)
		b = append(b, '}')
		b = appendKey(b, "cvss4_vector")
		b = append(b, '{')
		for i, name := range cvss4Names {
			b = appendStrField(b, name, p.v4.metrics[i])
		}
		b = appendStrField(b, "raw", p.v4.vector)
		b = append(b, '}')
	}
	if p.v2 != nil {
		b = appendFloatField(b, "cvss_base_score", p.v2.base)
		b = appendFloatField(b, "cvss_temporal_score", p.v2.temporal)
		b = appendKey(b, "cvss_temporal_vector")
		b = appendVector(b, cvss2Temporal, []int{p.v2.e, p.v2.rl, p.v2.rc}, p.v2.tvector)
		b = appendKey(b, "cvss_vector")
		b = appendVector(b, cvss2Metrics, []int{p.v2.av, p.v2.ac, p.v2.au, p.v2.c, p.v2.i, p.v2.a}, p.v2.vector)
	}
	b = appendStrField(b, "description", p.description)
	if p.epss > 0 {
		b = appendFloatField(b, "epss_score", p.epss)
	}
	b = appendBoolField(b, "exploit_available", p.exploitAvailable)
	b = appendBoolField(b, "exploit_framework_canvas", p.canvas)
	b = appendBoolField(b, "exploit_framework_core", p.core)
	b = appendBoolField(b, "exploit_framework_d2_elliot", false)
	b = appendBoolField(b, "exploit_framework_exploithub", false)
	b = appendBoolField(b, "exploit_framework_metasploit", p.metasploit)
	b = appendOptStr(b, "exploitability_ease", p.exploitEase)
	b = appendBoolField(b, "exploited_by_malware", p.malware)
	b = appendBoolField(b, "exploited_by_nessus", p.nessusExploit)
	b = appendStrField(b, "family", p.family)
	b = appendIntField(b, "family_id", int64(p.familyID))
	b = appendBoolField(b, "has_patch", p.hasPatch)
	b = appendIntField(b, "id", int64(p.id))
	b = appendBoolField(b, "in_the_news", p.inNews)
	b = appendOptStr(b, "metasploit_name", p.metasploitName)
	b = appendOptStrArray(b, "ms_bulletin", p.msBulletin)
	b = appendStrField(b, "name", p.name)
	if p.patchDate != 0 {
		b = appendDateField(b, "patch_publication_date", p.patchDate)
	}
	b = appendDateField(b, "modification_date", p.modDate)
	b = appendDateField(b, "publication_date", p.pubDate)
	b = appendStrField(b, "risk_factor", riskFactors[p.sev])
	b = appendOptStrArray(b, "see_also", p.seeAlso)
	b = appendStrField(b, "solution", p.solution)
	b = appendOptStr(b, "stig_severity", p.stig)
	b = appendStrField(b, "synopsis", p.synopsis)
	b = appendStrField(b, "type", p.typ)
	b = appendBoolField(b, "unsupported_by_vendor", p.unsupported)
	b = appendStrField(b, "version", p.version)
	if p.vulnDate != 0 {
		b = appendDateField(b, "vuln_publication_date", p.vulnDate)
	}
	if len(p.xrefs) > 0 {
		b = appendKey(b, "xrefs")
		b = append(b, '[')
		for i, x := range p.xrefs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendStrField(b, "type", x.key)
			b = appendStrField(b, "id", x.value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if p.vprScore > 0 {
		b = appendKey(b, "vpr")
		b = p.appendVPR(b)
		b = appendKey(b, "vpr_v2")
		b = append(b, '{')
		b = appendFloatField(b, "score", p.vpr2Score)
		b = appendFloatField(b, "vpr_percentile", p.vpr2Pct)
		b = appendStrField(b, "vpr_severity", strings.ToUpper(severityNames[sevFromCVSS3(p.vpr2Score)]))
		b = appendFloatField(b, "exploit_probability", p.vpr2Prob)
		b = appendStrField(b, "cve_id", p.cves[0])
		b = appendStrField(b, "exploit_code_maturity", p.vprMaturity)
		b = appendBoolField(b, "on_cisa_kev", p.cisaKEV)
		b = appendStrField(b, "in_the_news_intensity_last30", p.vprIntensity)
		recency := "NO_RECORDED_EVENTS"
		if p.vprIntensity != "VERY_LOW" {
			recency = "LAST_30_DAYS"
		}
		b = appendStrField(b, "in_the_news_recency", recency)
		b = appendStrField(b, "malware_observations_intensity_last30", "VERY_LOW")
		b = appendStrField(b, "malware_observations_recency", "NO_RECORDED_EVENTS")
		b = append(b, '}')
	}
	return append(b, '}')
}

func (p *plugin) appendVPR(b []byte) []byte {
	b = append(b, '{')
	b = appendFloatField(b, "score", p.vprScore)
	b = appendKey(b, "drivers")
	b = append(b, '{')
	b = appendKey(b, "age_of_vuln")
	b = append(b, '{')
	b = appendIntField(b, "lower_bound", int64(p.vprAgeLow))
	if p.vprAgeHigh > 0 {
		b = appendIntField(b, "upper_bound", int64(p.vprAgeHigh))
	}
	b = append(b, '}')
	b = appendStrField(b, "exploit_code_maturity", p.vprMaturity)
	b = appendBoolField(b, "cvss_impact_score_predicted", false)
	b = appendFloatField(b, "cvss3_impact_score", p.v3.impact)
	b = appendStrField(b, "threat_intensity_last28", p.vprIntensity)
	if p.vprIntensity != "VERY_LOW" {
		b = appendKey(b, "threat_recency")
		b = append(b, `{"lower_bound":0,"upper_bound":7}`...)
	}
	b = appendStrArrayField(b, "threat_sources_last28", p.vprSources)
	b = appendStrField(b, "product_coverage", p.vprCoverage)
	b = append(b, '}')
	b = appendKey(b, "updated")
	b = append(b, '"')
	b = timeOf(p.vprUpdated).AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, '"')
	return append(b, '}')
}

// appendVector renders a snake_case CVSS vector object as vuln records carry it.
func appendVector(b []byte, metrics []cvssMetric, vals []int, raw string) []byte {
	b = append(b, '{')
	for i, m := range metrics {
		if m.name == "scope" {
			continue
		}
		b = appendStrField(b, m.name, m.values[vals[i]].name)
	}
	b = appendStrField(b, "raw", raw)
	return append(b, '}')
}

// appendAPIVector renders a CVSS vector object the way GET /plugins/plugin does:
// raw first, then CamelCase / hyphenated metric names.
func appendAPIVector(b []byte, metrics []cvssMetric, names []string, vals []int, raw string) []byte {
	b = append(b, '{')
	b = appendStrField(b, "raw", raw)
	for i, m := range metrics {
		b = appendStrField(b, names[i], m.values[vals[i]].name)
	}
	return append(b, '}')
}

func (p *plugin) renderAPIFrag() []byte {
	b := make([]byte, 0, 2048)
	b = append(b, '{')
	b = appendIntField(b, "id", int64(p.id))
	b = appendStrField(b, "name", p.name)
	b = appendKey(b, "attributes")
	b = append(b, '{')
	b = appendStrField(b, "intel_type", "VULNERABILITY")
	b = appendStrField(b, "synopsis", p.synopsis)
	b = appendStrField(b, "description", p.description)
	b = appendStrField(b, "solution", p.solution)
	b = appendStrArrayField(b, "see_also", nonNil(p.seeAlso))
	b = appendDateField(b, "plugin_publication_date", p.pubDate)
	if p.vulnDate != 0 {
		b = appendDateField(b, "vuln_publication_date", p.vulnDate)
	}
	if p.patchDate != 0 {
		b = appendDateField(b, "patch_publication_date", p.patchDate)
	}
	b = appendBoolField(b, "has_patch", p.hasPatch)
	b = appendBoolField(b, "exploit_available", p.exploitAvailable)
	b = appendStrField(b, "risk_factor", strings.ToUpper(riskFactors[p.sev]))
	b = appendDateField(b, "plugin_modification_date", p.modDate)
	b = appendStrField(b, "plugin_version", p.version)
	b = appendStrField(b, "plugin_type", p.typ)
	b = appendBoolField(b, "always_run", false)
	b = appendBoolField(b, "compliance", false)
	b = appendBoolField(b, "exploited_by_malware", p.malware)
	b = appendBoolField(b, "exploited_by_nessus", p.nessusExploit)
	b = appendBoolField(b, "unsupported_by_vendor", p.unsupported)
	b = appendBoolField(b, "default_account", p.defaultAccount)
	b = appendBoolField(b, "in_the_news", p.inNews)
	b = appendBoolField(b, "malware", p.malware)
	b = appendBoolField(b, "exploit_framework_canvas", p.canvas)
	b = appendBoolField(b, "exploit_framework_core", p.core)
	b = appendBoolField(b, "exploit_framework_d2_elliot", false)
	b = appendBoolField(b, "exploit_framework_exploithub", false)
	b = appendBoolField(b, "exploit_framework_metasploit", p.metasploit)
	b = appendStrArrayField(b, "cpe", nonNil(p.cpes))
	if p.v2 != nil {
		b = appendFloatField(b, "cvss_base_score", p.v2.base)
		b = appendKey(b, "cvss_vector")
		b = appendAPIVector(b, cvss2Metrics, cvss2APINames, []int{p.v2.av, p.v2.ac, p.v2.au, p.v2.c, p.v2.i, p.v2.a}, p.v2.vector)
		b = appendKey(b, "cvss_temporal_vector")
		b = appendAPIVector(b, cvss2Temporal, cvss2APITemporal, []int{p.v2.e, p.v2.rl, p.v2.rc}, p.v2.tvector)
		b = appendFloatField(b, "cvss_temporal_score", p.v2.temporal)
	}
	if p.v3 != nil {
		b = appendKey(b, "cvss3_vector")
		b = appendAPIVector(b, cvss3Metrics, cvss3APINames, []int{p.v3.av, p.v3.ac, p.v3.pr, p.v3.ui, p.v3.s, p.v3.c, p.v3.i, p.v3.a}, p.v3.vector)
		b = appendKey(b, "cvss3_temporal_vector")
		b = appendAPIVector(b, cvss3Temporal, cvss3APITemporal, []int{p.v3.e, p.v3.rl, p.v3.rc}, p.v3.tvector)
		b = appendFloatField(b, "cvss3_temporal_score", p.v3.temporal)
		b = appendFloatField(b, "cvss3_base_score", p.v3.base)
	}
	b = appendStrArrayField(b, "cve", nonNil(p.cves))
	b = appendKey(b, "bid")
	b = append(b, '[')
	for i, v := range p.bids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	b = append(b, ']')
	xref := make([]string, 0, len(p.xrefs))
	for _, x := range p.xrefs {
		xref = append(xref, x.key+":"+x.value)
	}
	b = appendStrArrayField(b, "xref", xref)
	b = appendKey(b, "xrefs")
	b = append(b, '[')
	for i, x := range p.xrefs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStrField(b, "type", x.key)
		b = appendStrField(b, "id", x.value)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendKey(b, "vpr")
	if p.vprScore > 0 {
		b = p.appendVPR(b)
	} else {
		b = append(b, "{}"...)
	}
	b = append(b, '}')
	return append(b, '}')
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clonePlugin copies a plugin for a change (Advance) and re-renders it later.
func (p *plugin) clone() *plugin {
	c := *p
	return &c
}
