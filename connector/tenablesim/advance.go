package tenablesim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// AdvanceSummary tells what one Advance changed.
type AdvanceSummary struct {
	From              time.Time `json:"from"`
	To                time.Time `json:"to"`
	Step              int64     `json:"step"`
	AssetsRescanned   int       `json:"assets_rescanned"`
	AssetsNew         int       `json:"assets_new"`
	AssetsDeleted     int       `json:"assets_deleted"`
	AssetsTerminated  int       `json:"assets_terminated"`
	FindingsSeen      int       `json:"findings_seen"`
	FindingsNew       int       `json:"findings_new"`
	FindingsFixed     int       `json:"findings_fixed"`
	FindingsReopened  int       `json:"findings_reopened"`
	PluginsUpdated    int       `json:"plugins_updated"`
	ComplianceChanged int       `json:"compliance_changed"`
	// ChangedAssets are the UUIDs of every asset the step touched, in tenant order.
	ChangedAssets []string `json:"changed_assets"`
}

// Per-day rates of change, scaled by the length of the step.
const (
	rescanPerDay     = 0.35  // share of live assets scanned again
	newAssetsPerDay  = 0.005 // new assets, relative to the tenant size
	deletedPerDay    = 0.002
	terminatedPerDay = 0.003 // of live cloud assets
	pluginsPerDay    = 0.01
	fixPerScan       = 0.06 // open findings fixed by a rescan
	reopenPerScan    = 0.03 // fixed findings found again by a rescan
	complianceFlip   = 0.04
)

// Advance moves the tenant clock forward by d and changes the tenant the way a
// real container changes in that time: rescans, new, fixed and reopened
// findings, new, deleted and terminated assets, updated plugins and compliance
// results. The change is deterministic: it depends only on the seed, the step
// number and the tenant (imports included).
func (s *Server) Advance(d time.Duration) (AdvanceSummary, error) {
	if d <= 0 {
		return AdvanceSummary{}, errors.New("advance: duration must be positive")
	}
	if d > 366*24*time.Hour {
		return AdvanceSummary{}, fmt.Errorf("advance: duration must be at most 366 days (got %s)", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step++
	from := s.t.now
	dms := d.Milliseconds()
	to := from + dms
	days := d.Hours() / 24
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed)^0x51ab1e, hashOf(0xadba, uint64(s.step))))
	sum := AdvanceSummary{From: timeOf(from), To: timeOf(to), Step: s.step}
	at := func() int64 { return from + 1 + r.Int64N(dms) }
	count := func(x float64) int {
		n := int(math.Floor(x))
		if r.Float64() < x-float64(n) {
			n++
		}
		return n
	}

	assets := slices.Clone(s.t.assets)
	plugins := s.t.plugins
	changed := make([]bool, len(assets))
	mutable := func(i int) *asset {
		if !changed[i] {
			c := *assets[i]
			assets[i] = &c
			changed[i] = true
		}
		return assets[i]
	}

	// Rescans.
	pRescan := math.Min(1, rescanPerDay*days)
	for i := range assets {
		if r.Float64() >= pRescan || !assets[i].live() || assets[i].sched < 0 {
			continue
		}
		a := mutable(i)
		s.rescan(r, a, at(), plugins, &sum)
		sum.AssetsRescanned++
	}
	// Lifecycle: deletions and terminations of live assets (rescanned ones too:
	// over a long step nearly every asset is rescanned, and some still go away).
	pick := func(want func(*asset) bool) int {
		for range 50 {
			i := r.IntN(len(assets))
			if assets[i].live() && want(assets[i]) {
				return i
			}
		}
		return -1
	}
	nLive, nCloud := 0, 0
	for _, a := range assets {
		if a.live() {
			nLive++
			if a.cloud != cloudNone {
				nCloud++
			}
		}
	}
	for range count(float64(nLive) * deletedPerDay * days) {
		if i := pick(func(*asset) bool { return true }); i >= 0 {
			a := mutable(i)
			a.deleted = at()
			a.deletedBy = s.w.users[r.IntN(len(s.w.users))]
			a.updated = a.deleted
			sum.AssetsDeleted++
		}
	}
	for range count(float64(nCloud) * terminatedPerDay * days) {
		if i := pick(func(a *asset) bool { return a.cloud != cloudNone }); i >= 0 {
			a := mutable(i)
			a.terminated = at()
			a.terminatedBy = []string{"", "AWS Connector", "Azure Connector", "GCP Connector"}[a.cloud]
			a.updated = a.terminated
			if a.cloud == cloudAWS && a.cloudF != nil {
				c := *a.cloudF
				c.stateName = "terminated"
				a.cloudF = &c
			}
			sum.AssetsTerminated++
		}
	}
	// New assets, each from its own stream so they do not depend on the others.
	for range count(float64(len(s.t.assets)) * newAssetsPerDay * days) {
		seq := int64(len(assets))
		ar := assetRand(s.cfg.Seed, s.step, seq)
		a := s.w.genAsset(ar, seq, to, at())
		a.deleted, a.terminated, a.deletedBy, a.terminatedBy = 0, 0, "", ""
		s.w.genFindings(ar, a, plugins, to)
		s.w.genCompliance(ar, a)
		a.finish(s.w, plugins)
		assets = append(assets, a)
		changed = append(changed, true)
		sum.AssetsNew++
		sum.FindingsNew += len(a.findings)
	}
	// Plugin updates.
	if n := count(float64(len(plugins)) * pluginsPerDay * days); n > 0 {
		plugins = slices.Clone(plugins)
		for range n {
			i := r.IntN(len(plugins))
			p := plugins[i].clone()
			p.modDate = at() / dayMs * dayMs
			p.version = bumpVersion(p.version)
			p.render()
			plugins[i] = p
			sum.PluginsUpdated++
		}
	}
	for i, a := range assets {
		if changed[i] {
			if i < len(s.t.assets) {
				a.finish(s.w, plugins)
			}
			sum.ChangedAssets = append(sum.ChangedAssets, a.id)
		}
	}
	if sum.ChangedAssets == nil {
		sum.ChangedAssets = []string{}
	}
	s.t = &tenant{now: to, assets: assets, plugins: plugins}
	s.log.Debug("tenant advanced", "to", sum.To, "step", s.step, "assets_rescanned", sum.AssetsRescanned,
		"findings_new", sum.FindingsNew, "findings_fixed", sum.FindingsFixed, "assets_new", sum.AssetsNew)
	return sum, nil
}

// rescan applies one scan at time ts to a (a private copy).
func (s *Server) rescan(r *rand.Rand, a *asset, ts int64, plugins []*plugin, sum *AdvanceSummary) {
	a.lastScan, a.lastSeen = ts, ts
	a.updated = ts + 10000 + r.Int64N(300000)
	if a.isLicensed {
		a.lastLicensed = ts
	}
	if a.lastAuthScan != 0 {
		a.lastAuthScan, a.authAttempt, a.authSuccess = ts, ts, ts
	}
	a.sources = slices.Clone(a.sources)
	for k := range a.sources {
		switch a.sources[k].name {
		case "NESSUS_SCAN", "NESSUS_AGENT", "AWS", "AZURE", "GCP":
			a.sources[k].last = ts
		}
	}
	a.ports = slices.Clone(a.ports)
	for k := range a.ports {
		a.ports[k].last = ts
	}
	fs := slices.Clone(a.findings)
	for k := range fs {
		f := &fs[k]
		switch f.state {
		case stateOpen, stateReopened:
			if r.Float64() < fixPerScan {
				f.state = stateFixed
				f.lastFixed = ts
				f.resurfaced = 0
				sum.FindingsFixed++
			} else {
				f.lastFound = ts
				sum.FindingsSeen++
			}
		case stateFixed:
			if r.Float64() < reopenPerScan {
				f.state = stateReopened
				f.resurfaced = ts
				f.lastFound = ts
				sum.FindingsReopened++
			} else {
				continue
			}
		}
		f.indexed = f.eventTime() + 5000 + r.Int64N(15*60000)
	}
	// New findings from the vulnerability plugins that apply to the host.
	seen := map[findingKey]bool{}
	for _, f := range fs {
		seen[findingKey{f.plugin, f.port, f.proto}] = true
	}
	cands := s.w.vulnHost[a.profile]
	for range r.IntN(4) {
		if len(cands) == 0 {
			break
		}
		p := plugins[cands[r.IntN(len(cands))]]
		k := findingKey{plugin: p.idx}
		if seen[k] {
			continue
		}
		seen[k] = true
		f := finding{plugin: p.idx, svc: -1, sev: uint8(p.sev), sched: uint16(max(a.sched, 0)), state: stateOpen,
			firstFound: ts, lastFound: ts}
		if a.hasAgent && p.typ == "local" {
			f.source = srcAgent
		}
		f.indexed = ts + 5000 + r.Int64N(15*60000)
		fs = append(fs, f)
		sum.FindingsNew++
	}
	sortFindings(fs, plugins)
	a.findings = fs
	if len(a.compliance) > 0 {
		cs := slices.Clone(a.compliance)
		for k := range cs {
			c := &cs[k]
			c.lastSeen, c.lastObserved = ts, ts
			c.indexed = ts + 30000 + r.Int64N(20*60000)
			if r.Float64() >= complianceFlip {
				continue
			}
			switch c.status {
			case compPassed:
				c.status = compFailed
				if c.state == stateFixed {
					c.state = stateReopened
				} else {
					c.state = stateOpen
				}
			case compFailed:
				c.status, c.state, c.lastFixed = compPassed, stateFixed, ts
			default:
				continue
			}
			sum.ComplianceChanged++
		}
		a.compliance = cs
	}
}

func bumpVersion(v string) string {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return "1.1"
	}
	return fmt.Sprintf("%d.%d", major, minor+1)
}
