package tenablesim

import (
	"math"
	"math/rand/v2"
	"strings"
)

// CVSS vectors and scores. Base and temporal scores are computed with the
// published CVSS v2 and v3.1 formulas, so vectors and scores always agree. CVSS v4
// scoring needs FIRST's macro-vector lookup table; the v4 score here is derived
// from the v3 score of the same plugin and is only plausible, not computed.

type cvssMetric struct {
	abbr, name string
	values     []cvssValue
}

type cvssValue struct {
	abbr, name string
	weight     float64
}

type cvss2 struct {
	base, temporal      float64
	vector, tvector     string
	av, ac, au, c, i, a int
	e, rl, rc           int
}

var cvss2Metrics = []cvssMetric{
	{"AV", "access_vector", []cvssValue{{"L", "Local-access", 0.395}, {"A", "Adjacent Network", 0.646}, {"N", "Network", 1.0}}},
	{"AC", "access_complexity", []cvssValue{{"H", "High", 0.35}, {"M", "Medium", 0.61}, {"L", "Low", 0.71}}},
	{"Au", "authentication", []cvssValue{{"M", "Multiple", 0.45}, {"S", "Single", 0.56}, {"N", "None required", 0.704}}},
	{"C", "confidentiality_impact", []cvssValue{{"N", "None", 0}, {"P", "Partial", 0.275}, {"C", "Complete", 0.660}}},
	{"I", "integrity_impact", []cvssValue{{"N", "None", 0}, {"P", "Partial", 0.275}, {"C", "Complete", 0.660}}},
	{"A", "availability_impact", []cvssValue{{"N", "None", 0}, {"P", "Partial", 0.275}, {"C", "Complete", 0.660}}},
}

var cvss2Temporal = []cvssMetric{
	{"E", "exploitability", []cvssValue{{"U", "Unproven", 0.85}, {"POC", "Proof-of-concept", 0.9}, {"F", "Functional", 0.95}, {"H", "High", 1.0}}},
	{"RL", "remediation_level", []cvssValue{{"OF", "Official Fix", 0.87}, {"TF", "Temporary Fix", 0.90}, {"W", "Workaround", 0.95}, {"U", "Unavailable", 1.0}}},
	{"RC", "report_confidence", []cvssValue{{"UC", "Unconfirmed", 0.90}, {"UR", "Uncorroborated", 0.95}, {"C", "Confirmed", 1.0}}},
}

// Plugin-API (CamelCase / hyphenated) names of the same metrics.
var cvss2APINames = []string{"AccessVector", "AccessComplexity", "Authentication", "Confidentiality-Impact", "Integrity-Impact", "Availability-Impact"}
var cvss2APITemporal = []string{"Exploitability", "RemediationLevel", "ReportConfidence"}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func (c *cvss2) compute() {
	w := func(m, v int) float64 { return cvss2Metrics[m].values[v].weight }
	impact := 10.41 * (1 - (1-w(3, c.c))*(1-w(4, c.i))*(1-w(5, c.a)))
	expl := 20 * w(0, c.av) * w(1, c.ac) * w(2, c.au)
	f := 1.176
	if impact == 0 {
		f = 0
	}
	c.base = round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f)
	if c.base < 0 {
		c.base = 0
	}
	t := cvss2Temporal
	c.temporal = round1(c.base * t[0].values[c.e].weight * t[1].values[c.rl].weight * t[2].values[c.rc].weight)
	vals := []int{c.av, c.ac, c.au, c.c, c.i, c.a}
	var sb strings.Builder
	for k, m := range cvss2Metrics {
		if k > 0 {
			sb.WriteByte('/')
		}
		sb.WriteString(m.abbr + ":" + m.values[vals[k]].abbr)
	}
	c.vector = sb.String()
	c.tvector = "E:" + t[0].values[c.e].abbr + "/RL:" + t[1].values[c.rl].abbr + "/RC:" + t[2].values[c.rc].abbr
}

type cvss3 struct {
	base, temporal, impact     float64
	vector, tvector            string
	av, ac, pr, ui, s, c, i, a int
	e, rl, rc                  int
}

var cvss3Metrics = []cvssMetric{
	{"AV", "access_vector", []cvssValue{{"N", "Network", 0.85}, {"A", "Adjacent Network", 0.62}, {"L", "Local", 0.55}, {"P", "Physical", 0.2}}},
	{"AC", "access_complexity", []cvssValue{{"L", "Low", 0.77}, {"H", "High", 0.44}}},
	{"PR", "privileges_required", []cvssValue{{"N", "None", 0.85}, {"L", "Low", 0.62}, {"H", "High", 0.27}}},
	{"UI", "user_interaction", []cvssValue{{"N", "None", 0.85}, {"R", "Required", 0.62}}},
	{"S", "scope", []cvssValue{{"U", "Unchanged", 0}, {"C", "Changed", 0}}},
	{"C", "confidentiality_impact", []cvssValue{{"N", "None", 0}, {"L", "Low", 0.22}, {"H", "High", 0.56}}},
	{"I", "integrity_impact", []cvssValue{{"N", "None", 0}, {"L", "Low", 0.22}, {"H", "High", 0.56}}},
	{"A", "availability_impact", []cvssValue{{"N", "None", 0}, {"L", "Low", 0.22}, {"H", "High", 0.56}}},
}

var cvss3Temporal = []cvssMetric{
	{"E", "exploitability", []cvssValue{{"U", "Unproven", 0.91}, {"P", "Proof-of-concept", 0.94}, {"F", "Functional", 0.97}, {"H", "High", 1}}},
	{"RL", "remediation_level", []cvssValue{{"O", "Official Fix", 0.95}, {"T", "Temporary Fix", 0.96}, {"W", "Workaround", 0.97}, {"U", "Unavailable", 1}}},
	{"RC", "report_confidence", []cvssValue{{"U", "Unknown", 0.92}, {"R", "Reasonable", 0.96}, {"C", "Confirmed", 1}}},
}

var cvss3APINames = []string{"AttackVector", "AttackComplexity", "PrivilegesRequired", "UserInteraction", "Scope", "Confidentiality-Impact", "Integrity-Impact", "Availability-Impact"}
var cvss3APITemporal = []string{"ExploitCodeMaturity", "RemediationLevel", "ReportConfidence"}

// roundup is CVSS v3.1's Roundup: the smallest number with one decimal >= x.
func roundup(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

func (c *cvss3) compute() {
	m := cvss3Metrics
	changed := c.s == 1
	pr := m[2].values[c.pr].weight
	if changed && c.pr == 1 {
		pr = 0.68
	} else if changed && c.pr == 2 {
		pr = 0.5
	}
	iss := 1 - (1-m[5].values[c.c].weight)*(1-m[6].values[c.i].weight)*(1-m[7].values[c.a].weight)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	expl := 8.22 * m[0].values[c.av].weight * m[1].values[c.ac].weight * pr * m[3].values[c.ui].weight
	switch {
	case impact <= 0:
		c.base = 0
	case changed:
		c.base = roundup(math.Min(1.08*(impact+expl), 10))
	default:
		c.base = roundup(math.Min(impact+expl, 10))
	}
	c.impact = round1(math.Max(impact, 0))
	t := cvss3Temporal
	c.temporal = roundup(c.base * t[0].values[c.e].weight * t[1].values[c.rl].weight * t[2].values[c.rc].weight)
	vals := []int{c.av, c.ac, c.pr, c.ui, c.s, c.c, c.i, c.a}
	var sb strings.Builder
	for k, mm := range m {
		if k > 0 {
			sb.WriteByte('/')
		}
		sb.WriteString(mm.abbr + ":" + mm.values[vals[k]].abbr)
	}
	c.vector = sb.String()
	c.tvector = "E:" + t[0].values[c.e].abbr + "/RL:" + t[1].values[c.rl].abbr + "/RC:" + t[2].values[c.rc].abbr
}

// sevFromCVSS3 maps a CVSS v3 base score to Tenable's severity id.
func sevFromCVSS3(score float64) int {
	switch {
	case score >= 9:
		return 4
	case score >= 7:
		return 3
	case score >= 4:
		return 2
	case score > 0:
		return 1
	}
	return 0
}

// randomCVSS3 draws vectors until the base score falls in the band of sev.
func randomCVSS3(r *rand.Rand, sev int, local bool) *cvss3 {
	for range 500 {
		c := &cvss3{
			av: pickWeighted(r, []int{6, 1, 3, 0}), ac: pickWeighted(r, []int{8, 2}),
			pr: pickWeighted(r, []int{6, 3, 1}), ui: pickWeighted(r, []int{7, 3}), s: pickWeighted(r, []int{8, 2}),
			c: r.IntN(3), i: r.IntN(3), a: r.IntN(3),
			e: pickWeighted(r, []int{5, 2, 2, 1}), rl: pickWeighted(r, []int{8, 1, 1, 0}), rc: pickWeighted(r, []int{0, 1, 9}),
		}
		if local {
			c.av = 2
		}
		if sev >= 3 {
			c.c, c.i, c.a = 2, 1+r.IntN(2), 1+r.IntN(2)
			if local && sev == 4 {
				c.av = 0
			}
		}
		c.compute()
		if sevFromCVSS3(c.base) == sev {
			return c
		}
	}
	// Fall back to fixed vectors known to land in each band.
	fixed := map[int]*cvss3{
		1: {av: 2, ac: 1, pr: 1, ui: 1, c: 1},
		2: {av: 0, ac: 0, pr: 0, ui: 1, c: 1, i: 1},
		3: {av: 0, ac: 0, pr: 1, ui: 0, c: 2, i: 2, a: 2},
		4: {av: 0, ac: 0, pr: 0, ui: 0, c: 2, i: 2, a: 2},
	}[sev]
	c := *fixed
	c.rc = 2
	c.compute()
	return &c
}

// cvss2For draws a v2 vector roughly consistent with a v3 vector.
func cvss2For(r *rand.Rand, v3 *cvss3) *cvss2 {
	c := &cvss2{ac: 2, au: 2, rc: 2}
	switch v3.av {
	case 0:
		c.av = 2
	case 1:
		c.av = 1
	default:
		c.av = 0
	}
	if v3.ac == 1 {
		c.ac = 0 + r.IntN(2)
	}
	if v3.pr > 0 {
		c.au = 1
	}
	c.c, c.i, c.a = v3.c, v3.i, v3.a
	c.e = []int{0, 1, 2, 3}[v3.e]
	c.rl = []int{0, 1, 2, 3}[v3.rl]
	c.compute()
	return c
}

type cvss4 struct {
	base, threat float64
	vector       string
	metrics      []string // value names in cvss4Names order
	maturity     string
	mabbr        string
}

var cvss4Names = []string{"attack_vector", "attack_complexity", "attack_requirements", "privileges_required", "user_interaction",
	"vulnerable_system_confidentiality", "vulnerable_system_integrity", "vulnerable_system_availability",
	"subsequent_system_confidentiality", "subsequent_system_integrity", "subsequent_system_availability"}

// cvss4For derives a v4 vector from the v3 one and a plausible score near it.
func cvss4For(r *rand.Rand, v3 *cvss3) *cvss4 {
	avN := []string{"Network", "Adjacent", "Local", "Physical"}
	avA := []string{"N", "A", "L", "P"}
	hl := func(v int) (string, string) {
		return []string{"None", "Low", "High"}[v], []string{"N", "L", "H"}[v]
	}
	at := r.IntN(4) == 0
	atN, atA := "None", "N"
	if at {
		atN, atA = "Present", "P"
	}
	acN, acA := "Low", "L"
	if v3.ac == 1 {
		acN, acA = "High", "H"
	}
	prN, prA := hl([]int{0, 1, 2}[v3.pr])
	uiN, uiA := "None", "N"
	if v3.ui == 1 {
		uiN, uiA = "Passive", "P"
	}
	vc, vcA := hl(v3.c)
	vi, viA := hl(v3.i)
	va, vaA := hl(v3.a)
	sc, scA, si, siA, sa, saA := "None", "N", "None", "N", "None", "N"
	if v3.s == 1 {
		sc, scA = hl(1)
		si, siA = hl(1)
	}
	c := &cvss4{
		metrics: []string{avN[v3.av], acN, atN, prN, uiN, vc, vi, va, sc, si, sa},
		vector: "AV:" + avA[v3.av] + "/AC:" + acA + "/AT:" + atA + "/PR:" + prA + "/UI:" + uiA +
			"/VC:" + vcA + "/VI:" + viA + "/VA:" + vaA + "/SC:" + scA + "/SI:" + siA + "/SA:" + saA,
	}
	delta := float64(r.IntN(21)-12) / 10
	if at {
		delta -= 1
	}
	c.base = math.Max(0.1, math.Min(10, round1(v3.base+delta)))
	c.maturity, c.mabbr = "Unreported", "U"
	switch v3.e {
	case 1:
		c.maturity, c.mabbr = "Proof-of-Concept", "P"
	case 2, 3:
		c.maturity, c.mabbr = "Attacked", "A"
	}
	mul := map[string]float64{"U": 0.6, "P": 0.85, "A": 1}[c.mabbr]
	c.threat = math.Max(0.1, round1(c.base*mul))
	return c
}

// pickWeighted returns an index drawn with the given integer weights.
func pickWeighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}
