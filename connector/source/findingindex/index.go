// Package findingindex keeps the open finding keys of every asset: what the
// vulnerability and compliance streams published and did not see fixed, so
// that when an asset is deleted or terminated the source can close each of its
// findings (Tenable drops them without ever moving them to FIXED).
//
// The index lives in memory and, durably, on a compacted Kafka topic of one
// partition (one total order of writes, so a replay ends where memory was).
// Each asset has up to three records there, each with one writer:
// "vulns|<uuid>" and "compliance|<uuid>" hold the whole set of the asset's
// open findings of that kind (compaction keeps the latest set), written by the
// stream that publishes those findings; "closed|<uuid>" marks an asset whose
// findings were closed, written by the asset stream. A closed asset holds no
// open findings and gains none: a finding of it that arrives late is closed
// again at once. An asset that comes back as active loses its mark and starts
// afresh.
//
// Memory: an open vulnerability finding is one uint64 (plugin ID, port and an
// interned protocol), an open compliance finding one uint32 (an interned check
// ID), in sorted slices per asset; with an asset's own overhead of about 100
// bytes, tens of findings an asset cost about 16 bytes each.
package findingindex

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkaio"
)

// Log is the index topic.
type Log interface {
	// Topic names it in errors.
	Topic() string
	// ReadFrom hands fn every record from the given offsets (a partition not
	// listed: from its first) up to the end offsets it saw when it began, and
	// returns those end offsets.
	ReadFrom(ctx context.Context, from map[int]int64, fn func(kafkaio.Record) error) (map[int]int64, error)
	// Write publishes records (Value nil: a tombstone) and returns once Kafka
	// acknowledged every one.
	Write(ctx context.Context, recs ...kafkaio.Record) error
}

// entry is what the index knows of one asset.
type entry struct {
	vulns    []uint64 // sorted packed findings (see pack), protocol as an interned code
	checks   []uint32 // sorted interned check IDs
	closedAt int64    // Unix ms; with reason != 0
	reason   Reason
}

func (e *entry) empty() bool { return len(e.vulns) == 0 && len(e.checks) == 0 && e.reason == 0 }

// Index is the open findings of every asset. Its methods are safe for
// concurrent use.
type Index struct {
	log Log

	mu sync.RWMutex // guards the maps, tables and counters
	// Assets whose ID is a canonical lower-case UUID are keyed by its 16 bytes;
	// any other ID by its text.
	byUUID map[[16]byte]*entry
	byName map[string]*entry
	protos []string
	protoC map[string]uint16
	checks []string
	checkC map[string]uint32
	open   int
	// orphans are open findings of closed assets read from the topic, by
	// index key, until a caller takes them to close them; a later value of
	// the same key replaces them.
	orphans map[string][]Late

	// writeMu serialises catching up and writing: a write's read-modify-write
	// of a set must not interleave with another, nor with a replay that
	// could put an older value back.
	writeMu sync.Mutex
	pos     map[int]int64
}

// New returns an empty index on log; Load fills it.
func New(log Log) *Index {
	return &Index{log: log, byUUID: map[[16]byte]*entry{}, byName: map[string]*entry{},
		protoC: map[string]uint16{}, checkC: map[string]uint32{}, pos: map[int]int64{}, orphans: map[string][]Late{}}
}

// Load reads the index topic from where the index last read it (at first:
// its start) to its end. Called again, it catches up with what other
// processes wrote. A record that cannot be decoded stops it with an error
// naming the topic and offset: skipping it could lose closures.
func (x *Index) Load(ctx context.Context) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	return x.catchUp(ctx)
}

func (x *Index) catchUp(ctx context.Context) error {
	ends, err := x.log.ReadFrom(ctx, x.pos, func(r kafkaio.Record) error {
		if err := x.Apply(r); err != nil {
			return fmt.Errorf("finding index topic %s partition %d offset %d: %w", x.log.Topic(), r.Partition, r.Offset, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the finding index: %w", err)
	}
	for p, end := range ends {
		x.pos[p] = max(x.pos[p], end)
	}
	return nil
}

// Apply applies one record of the index topic.
func (x *Index) Apply(r kafkaio.Record) error {
	kind, asset, err := splitKey(r.Key)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if r.Value == nil {
		// A tombstone leaves orphans alone: the asset stream's own tombstones
		// follow its mark, and may follow a set it has not closed.
		x.clear(asset, kind)
		return nil
	}
	delete(x.orphans, string(r.Key)) // a set is the whole set: it replaces the last
	d := &decoder{b: r.Value}
	if k := d.header(); d.err == nil && k != kind {
		d.fail("a %s value under a %s key", k, kind)
	}
	if d.err != nil {
		return d.err
	}
	e := x.lookup(asset, true)
	switch kind {
	case KindVulns:
		var set []uint64
		decodeVulns(d, func(n int) {
			if e.reason == 0 {
				set = make([]uint64, 0, n) // exact: a rebuild keeps no slack
			}
		}, func(protos [][]byte, p uint64) {
			plugin, port, proto := unpack(p)
			if set == nil { // a closed asset gains no findings: they are orphans
				x.orphan(KindVulns, asset, e, vulnKey(asset, plugin, port, protos[proto]))
				return
			}
			set = append(set, pack(plugin, port, x.protoCode(protos[proto])))
		})
		d.end()
		if d.err != nil {
			return d.err
		}
		if e.reason == 0 {
			slices.Sort(set) // codes of this process may order protocols differently
			x.open += len(set) - len(e.vulns)
			e.vulns = set
		}
	case KindCompliance:
		n := d.count(1)
		set := make([]uint32, 0, n)
		for range n {
			c := d.bytes()
			if d.err != nil {
				break
			}
			if e.reason != 0 {
				x.orphan(KindCompliance, asset, e, append(append([]byte(asset), '|'), c...))
				continue
			}
			set = append(set, x.checkCode(c))
		}
		d.end()
		if d.err != nil {
			return d.err
		}
		if e.reason == 0 {
			slices.Sort(set)
			x.open += len(set) - len(e.checks)
			e.checks = set
		}
	case KindClosed:
		reason, at := Reason(d.byte()), d.varint()
		d.end()
		if d.err == nil && reason != ReasonDeleted && reason != ReasonTerminated {
			d.fail("unknown reason %d", reason)
		}
		if d.err != nil {
			return d.err
		}
		x.open -= len(e.vulns) + len(e.checks)
		e.vulns, e.checks, e.reason, e.closedAt = nil, nil, reason, at
	}
	x.drop(asset, e)
	return nil
}

// orphan records an open finding of a closed asset read from the topic: a
// set another process wrote after this one's closure was decided (or one this
// process wrote before it learnt of another's closure). Whoever reads it
// closes it; a closure twice is harmless, none is not.
func (x *Index) orphan(kind Kind, asset string, e *entry, key []byte) {
	k := string(Key(kind, asset))
	x.orphans[k] = append(x.orphans[k], Late{Kind: kind, Key: key, Asset: asset, Open: true, Orphan: true,
		Closure: Closure{Reason: e.reason, At: e.closedAt}})
}

// vulnKey formats the Kafka key of a vulnerability finding.
func vulnKey[S ~string | ~[]byte](asset string, plugin uint32, port uint16, proto S) []byte {
	k := append([]byte(asset), '|')
	k = strconv.AppendUint(k, uint64(plugin), 10)
	k = append(k, '|')
	k = strconv.AppendUint(k, uint64(port), 10)
	k = append(k, '|')
	return append(k, proto...)
}

// clear forgets one kind of an asset's record (a tombstone).
func (x *Index) clear(asset string, kind Kind) {
	e := x.lookup(asset, false)
	if e == nil {
		return
	}
	switch kind {
	case KindVulns:
		x.open -= len(e.vulns)
		e.vulns = nil
	case KindCompliance:
		x.open -= len(e.checks)
		e.checks = nil
	case KindClosed:
		e.reason, e.closedAt = 0, 0
	}
	x.drop(asset, e)
}

func (x *Index) drop(asset string, e *entry) {
	if !e.empty() {
		return
	}
	if id, ok := uuidBytes(asset); ok {
		delete(x.byUUID, id)
	} else {
		delete(x.byName, asset)
	}
}

func (x *Index) lookup(asset string, create bool) *entry {
	if id, ok := uuidBytes(asset); ok {
		e := x.byUUID[id]
		if e == nil && create {
			e = &entry{}
			x.byUUID[id] = e
		}
		return e
	}
	e := x.byName[asset]
	if e == nil && create {
		e = &entry{}
		x.byName[asset] = e
	}
	return e
}

func (x *Index) protoCode(p []byte) uint16 {
	if c, ok := x.protoC[string(p)]; ok {
		return c
	}
	c := uint16(len(x.protos))
	x.protos = append(x.protos, string(p))
	x.protoC[string(p)] = c
	return c
}

func (x *Index) checkCode(c []byte) uint32 {
	if code, ok := x.checkC[string(c)]; ok {
		return code
	}
	code := uint32(len(x.checks))
	x.checks = append(x.checks, string(c))
	x.checkC[string(c)] = code
	return code
}

// uuidBytes parses a canonical lower-case UUID; only IDs that format back to
// the same text are keyed by their bytes, so closures carry the asset ID as
// Tenable wrote it.
func uuidBytes[S ~string | ~[]byte](s S) (id [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	var hexDigits [32]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return id, false
		}
		hexDigits[j] = c
		j++
	}
	if _, err := hex.Decode(id[:], hexDigits[:]); err != nil {
		return id, false
	}
	return id, true
}

// Stats are the index's size.
type Stats struct {
	Assets, OpenFindings int
}

// Stats counts assets and open findings.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return Stats{Assets: len(x.byUUID) + len(x.byName), OpenFindings: x.open}
}

// Closure is why and when an asset's findings were closed.
type Closure struct {
	Reason Reason
	// At is the asset's deleted_at or terminated_at, Unix milliseconds.
	At int64
}

// Closed reports whether the asset's findings were closed.
func (x *Index) Closed(asset []byte) (Closure, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var e *entry
	if id, ok := uuidBytes(asset); ok {
		e = x.byUUID[id]
	} else {
		e = x.byName[string(asset)]
	}
	if e == nil || e.reason == 0 {
		return Closure{}, false
	}
	return Closure{Reason: e.reason, At: e.closedAt}, true
}

// OpenKeys returns the Kafka keys of the asset's open findings of kind
// (KindVulns: uuid|plugin|port|PROTOCOL; KindCompliance: uuid|check ID).
func (x *Index) OpenKeys(asset string, kind Kind) [][]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e := x.lookup(asset, false)
	if e == nil {
		return nil
	}
	var out [][]byte
	switch kind {
	case KindVulns:
		for _, p := range e.vulns {
			plugin, port, proto := unpack(p)
			out = append(out, vulnKey(asset, plugin, port, x.protos[proto]))
		}
	case KindCompliance:
		for _, c := range e.checks {
			out = append(out, append(append([]byte(asset), '|'), x.checks[c]...))
		}
	}
	return out
}

// Change is one finding a stream published and Kafka acknowledged.
type Change struct {
	// Key is the record's Kafka key.
	Key []byte
	// Open: OPEN or REOPENED (vulns), not resolved (compliance); false: fixed.
	Open bool
}

// Late is a finding of an asset already closed, published after its closure:
// it needs a closure of its own.
type Late struct {
	Kind  Kind
	Key   []byte
	Asset string
	// Open: the finding was published open (a fixed one needs no closure).
	Open bool
	// Orphan: read from the index topic, in a set of an asset already closed;
	// Settle records that it was closed once the closure is acknowledged.
	Orphan bool
	Closure
}

// ErrBadKey marks a finding key the index cannot hold.
var ErrBadKey = errors.New("finding key not indexable")

// Update applies the acknowledged findings of one chunk of kind (KindVulns or
// KindCompliance): it catches up with the topic, writes the new set of every
// asset the chunk changed, waits for Kafka, then applies them. Findings of
// assets closed meanwhile are not added: they come back as Late, for the
// caller to close. Keys that do not parse are skipped and counted in bad.
func (x *Index) Update(ctx context.Context, kind Kind, changes []Change) (late []Late, bad int, err error) {
	if len(changes) == 0 {
		return nil, 0, nil
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := x.catchUp(ctx); err != nil {
		return nil, 0, err
	}
	type pending struct {
		vulns  []uint64
		checks []uint32
	}
	x.mu.Lock()
	sets := map[string]*pending{}
	var order []string
	for _, c := range changes {
		asset, rest, ok := bytes.Cut(c.Key, []byte{'|'})
		if !ok || len(asset) == 0 || len(rest) == 0 {
			bad++
			continue
		}
		p := sets[string(asset)]
		if p == nil {
			e := x.lookup(string(asset), false)
			if e != nil && e.reason != 0 {
				late = append(late, Late{Kind: kind, Key: c.Key, Asset: string(asset), Open: c.Open, Closure: Closure{Reason: e.reason, At: e.closedAt}})
				continue
			}
			p = &pending{}
			if e != nil {
				p.vulns, p.checks = slices.Clone(e.vulns), slices.Clone(e.checks)
			}
			sets[string(asset)] = p
			order = append(order, string(asset))
		}
		switch kind {
		case KindVulns:
			f, ok := x.parseVuln(rest)
			if !ok {
				bad++
				continue
			}
			p.vulns = setOp(p.vulns, f, c.Open)
		case KindCompliance:
			p.checks = setOp(p.checks, x.checkCode(rest), c.Open)
		}
	}
	// The records carry each set as the wire has it: protocols by name.
	recs := make([]kafkaio.Record, 0, len(order))
	for _, asset := range order {
		p := sets[asset]
		v := Value{Kind: kind}
		for _, f := range p.vulns {
			plugin, port, proto := unpack(f)
			v.Vulns = append(v.Vulns, Vuln{Plugin: plugin, Port: port, Protocol: x.protos[proto]})
		}
		for _, c := range p.checks {
			v.Checks = append(v.Checks, x.checks[c])
		}
		var val []byte
		if len(p.vulns)+len(p.checks) > 0 {
			val = Encode(v)
		}
		recs = append(recs, kafkaio.Record{Key: Key(kind, asset), Value: val})
	}
	x.mu.Unlock()
	if err := x.log.Write(ctx, recs...); err != nil {
		return nil, 0, fmt.Errorf("write the finding index: %w", err)
	}
	x.mu.Lock()
	for _, asset := range order {
		p := sets[asset]
		e := x.lookup(asset, true)
		switch kind {
		case KindVulns:
			x.open += len(p.vulns) - len(e.vulns)
			e.vulns = slices.Clip(p.vulns)
		case KindCompliance:
			x.open += len(p.checks) - len(e.checks)
			e.checks = slices.Clip(p.checks)
		}
		x.drop(asset, e)
	}
	x.mu.Unlock()
	// Read again what came since: an asset closed by another process between
	// the catch-up above and this write makes the sets just written orphans.
	if err := x.catchUp(ctx); err != nil {
		return nil, 0, err
	}
	return append(late, x.takeOrphans()...), bad, nil
}

func (x *Index) takeOrphans() []Late {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []Late
	for _, k := range slices.Sorted(maps.Keys(x.orphans)) {
		out = append(out, x.orphans[k]...)
	}
	clear(x.orphans)
	return out
}

// Orphans catches up with the topic and returns the open findings of closed
// assets it read there: their closures are the caller's to publish, then
// Settle's to record.
func (x *Index) Orphans(ctx context.Context) ([]Late, error) {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := x.catchUp(ctx); err != nil {
		return nil, err
	}
	return x.takeOrphans(), nil
}

// Settle replaces, on the topic, the sets the orphans among late came from
// with empty ones, once their closures were acknowledged, so that no later
// reader closes them again and compaction forgets their findings. (An empty
// set, not a tombstone: a tombstone also follows each closed mark, and must
// not settle a set nobody closed.)
func (x *Index) Settle(ctx context.Context, late []Late) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	return x.settleLocked(ctx, late)
}

func (x *Index) settleLocked(ctx context.Context, late []Late) error {
	seen := map[string]bool{}
	var recs []kafkaio.Record
	for _, l := range late {
		k := string(Key(l.Kind, l.Asset))
		if l.Orphan && !seen[k] {
			seen[k] = true
			recs = append(recs, kafkaio.Record{Key: []byte(k), Value: Encode(Value{Kind: l.Kind})})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := x.log.Write(ctx, recs...); err != nil {
		return fmt.Errorf("write the finding index: %w", err)
	}
	return nil
}

// parseVuln packs "plugin|port|PROTOCOL"; the caller holds mu.
func (x *Index) parseVuln(rest []byte) (uint64, bool) {
	plugin, rest, ok1 := bytes.Cut(rest, []byte{'|'})
	port, proto, ok2 := bytes.Cut(rest, []byte{'|'})
	if !ok1 || !ok2 || len(proto) == 0 {
		return 0, false
	}
	pl, ok1 := parseUint(plugin, 1<<32-1)
	po, ok2 := parseUint(port, 1<<16-1)
	if !ok1 || !ok2 {
		return 0, false
	}
	return pack(uint32(pl), uint16(po), x.protoCode(proto)), true
}

// parseUint parses a decimal integer up to limit, without the string
// conversion strconv would need.
func parseUint(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= limit
}

// setOp adds v to or removes it from a sorted set.
func setOp[T uint64 | uint32](set []T, v T, add bool) []T {
	i, found := slices.BinarySearch(set, v)
	switch {
	case add && !found:
		return slices.Insert(set, i, v)
	case !add && found:
		return slices.Delete(set, i, i+1)
	}
	return set
}

// CloseAssets closes the findings of assets that were deleted or terminated.
// Under the write lock (so no update of this process slips in between), it
// catches up with the topic, hands publish the open findings of each asset
// not closed yet, and only once publish returned (the closures acknowledged)
// writes, per asset, tombstones for its sets and the closed mark. Then it
// reads the topic again: a set another process wrote meanwhile holds orphans,
// handed to publish as well. It returns every finding handed to publish.
func (x *Index) CloseAssets(ctx context.Context, assets []string, closures []Closure, publish func(context.Context, []Late) error) ([]Late, error) {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := x.catchUp(ctx); err != nil {
		return nil, err
	}
	var late []Late
	var closing []string
	var cls []Closure
	for i, a := range assets {
		if _, done := x.Closed([]byte(a)); done {
			continue // closed earlier (the overlap brings assets again)
		}
		for _, kind := range []Kind{KindVulns, KindCompliance} {
			for _, k := range x.OpenKeys(a, kind) {
				late = append(late, Late{Kind: kind, Key: k, Asset: a, Open: true, Closure: closures[i]})
			}
		}
		closing = append(closing, a)
		cls = append(cls, closures[i])
	}
	late = append(late, x.takeOrphans()...)
	if err := publish(ctx, late); err != nil {
		return nil, err
	}
	if err := x.closeLocked(ctx, closing, cls); err != nil {
		return nil, err
	}
	if err := x.catchUp(ctx); err != nil {
		return nil, err
	}
	orphans := x.takeOrphans()
	if len(orphans) > 0 {
		if err := publish(ctx, orphans); err != nil {
			return nil, err
		}
		late = append(late, orphans...)
	}
	if err := x.settleLocked(ctx, late); err != nil {
		return nil, err
	}
	return late, nil
}

// Close marks assets closed without publishing anything (their findings are
// forgotten).
func (x *Index) Close(ctx context.Context, assets []string, closures []Closure) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	return x.closeLocked(ctx, assets, closures)
}

func (x *Index) closeLocked(ctx context.Context, assets []string, closures []Closure) error {
	if len(assets) == 0 {
		return nil
	}
	recs := make([]kafkaio.Record, 0, 3*len(assets))
	for i, a := range assets {
		recs = append(recs,
			kafkaio.Record{Key: Key(KindVulns, a)},
			kafkaio.Record{Key: Key(KindCompliance, a)},
			kafkaio.Record{Key: Key(KindClosed, a), Value: Encode(Value{Kind: KindClosed, Reason: closures[i].Reason, ClosedAt: closures[i].At})})
	}
	if err := x.log.Write(ctx, recs...); err != nil {
		return fmt.Errorf("write the finding index: %w", err)
	}
	for _, r := range recs {
		if err := x.Apply(r); err != nil {
			return err // cannot happen: the records were just encoded
		}
	}
	return nil
}

// Restore clears the closed mark of assets that came back as active: they
// start afresh. Assets without a mark cost nothing.
func (x *Index) Restore(ctx context.Context, assets [][]byte) (int, error) {
	var recs []kafkaio.Record
	for _, a := range assets {
		if _, closed := x.Closed(a); closed {
			recs = append(recs, kafkaio.Record{Key: Key(KindClosed, string(a))})
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := x.log.Write(ctx, recs...); err != nil {
		return 0, fmt.Errorf("write the finding index: %w", err)
	}
	for _, r := range recs {
		if err := x.Apply(r); err != nil {
			return 0, err
		}
	}
	return len(recs), nil
}
