package findingindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Version is the format of the index topic's values this build writes and
// reads. A value of another version stops the reader: it may hold open findings
// this build cannot see, and skipping it would silently lose their closures.
const Version = 1

// Kind says what an index record holds: the open vulnerability findings of an
// asset, its open compliance findings, or the closure of the asset. Each kind
// has its own key ("vulns|<asset uuid>"), so each has one writer: the stream
// that owns it.
type Kind uint8

const (
	KindVulns      Kind = 1
	KindCompliance Kind = 2
	KindClosed     Kind = 3
)

var kindNames = [...]string{KindVulns: "vulns", KindCompliance: "compliance", KindClosed: "closed"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Reason says why an asset's findings were closed.
type Reason uint8

const (
	ReasonDeleted    Reason = 1
	ReasonTerminated Reason = 2
)

// String is the reason as the tvm.closed_reason header and the metric carry it.
func (r Reason) String() string {
	switch r {
	case ReasonDeleted:
		return "asset_deleted"
	case ReasonTerminated:
		return "asset_terminated"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// ErrUndecodable marks an index value this build cannot read.
var ErrUndecodable = errors.New("undecodable finding index value")

// Key is the index topic key of an asset's record of one kind.
func Key(kind Kind, asset string) []byte {
	return append(append([]byte(kind.String()), '|'), asset...)
}

// splitKey parses an index topic key.
func splitKey(key []byte) (Kind, string, error) {
	k, asset, ok := strings.Cut(string(key), "|")
	if !ok || asset == "" {
		return 0, "", fmt.Errorf("%w: key %q is not <kind>|<asset uuid>", ErrUndecodable, key)
	}
	for i, n := range kindNames {
		if n != "" && n == k {
			return Kind(i), asset, nil
		}
	}
	return 0, "", fmt.Errorf("%w: key %q names no known kind", ErrUndecodable, key)
}

// Value is the decoded content of one index record.
type Value struct {
	Kind Kind
	// Vulns are the open vulnerability findings (KindVulns).
	Vulns []Vuln
	// Checks are the check IDs of the open compliance findings (KindCompliance).
	Checks []string
	// Closed (KindClosed): why and when, Unix milliseconds.
	Reason   Reason
	ClosedAt int64
}

// Vuln is one vulnerability finding of an asset: the parts of its key after
// the asset UUID.
type Vuln struct {
	Plugin   uint32
	Port     uint16
	Protocol string
}

// Encoding, version 1:
//
//	byte    version (1)
//	byte    kind
//	vulns:      uvarint np, np × (uvarint len, protocol bytes);
//	            uvarint n, n × uvarint delta of (plugin<<32 | port<<16 | protocol index), ascending
//	compliance: uvarint n, n × (uvarint len, check ID bytes), ascending
//	closed:     byte reason, varint closed_at (Unix ms)
//
// Deltas of sorted packed findings keep a set of an asset's findings near five
// bytes a finding.

// Encode returns the binary form of v.
func Encode(v Value) []byte {
	out := []byte{Version, byte(v.Kind)}
	switch v.Kind {
	case KindVulns:
		var protos []string
		for _, f := range v.Vulns {
			if !slices.Contains(protos, f.Protocol) {
				protos = append(protos, f.Protocol)
			}
		}
		slices.Sort(protos)
		out = binary.AppendUvarint(out, uint64(len(protos)))
		for _, p := range protos {
			out = binary.AppendUvarint(out, uint64(len(p)))
			out = append(out, p...)
		}
		packed := make([]uint64, len(v.Vulns))
		for i, f := range v.Vulns {
			packed[i] = pack(f.Plugin, f.Port, uint16(slices.Index(protos, f.Protocol)))
		}
		slices.Sort(packed)
		packed = slices.Compact(packed)
		out = binary.AppendUvarint(out, uint64(len(packed)))
		var prev uint64
		for _, p := range packed {
			out = binary.AppendUvarint(out, p-prev)
			prev = p
		}
	case KindCompliance:
		checks := slices.Compact(slices.Sorted(slices.Values(v.Checks)))
		out = binary.AppendUvarint(out, uint64(len(checks)))
		for _, c := range checks {
			out = binary.AppendUvarint(out, uint64(len(c)))
			out = append(out, c...)
		}
	case KindClosed:
		out = append(out, byte(v.Reason))
		out = binary.AppendVarint(out, v.ClosedAt)
	}
	return out
}

func pack(plugin uint32, port, proto uint16) uint64 {
	return uint64(plugin)<<32 | uint64(port)<<16 | uint64(proto)
}

func unpack(p uint64) (plugin uint32, port, proto uint16) {
	return uint32(p >> 32), uint16(p >> 16), uint16(p)
}

// decoder reads one value; every read checks its bounds, so corrupt input is an
// error, never a panic or a huge allocation.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrUndecodable, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks that the rest of the value can hold that
// many items of at least min bytes each.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// decodeVulns calls start with the number of findings, then fn with each
// packed finding, in ascending order, and the protocol table the protocol
// indexes point into.
func decodeVulns(d *decoder, start func(n int), fn func(protos [][]byte, packed uint64)) {
	np := d.count(1)
	protos := make([][]byte, 0, np)
	for range np {
		p := d.bytes()
		// As Encode writes them: distinct, ascending, not empty (one
		// encoding per set, so a decoded set encodes back to the same bytes).
		if d.err == nil && (len(p) == 0 || len(protos) > 0 && string(p) <= string(protos[len(protos)-1])) {
			d.fail("protocols not ascending")
		}
		protos = append(protos, p)
	}
	n := d.count(1)
	if d.err != nil {
		return
	}
	start(n)
	var prev uint64
	for i := range n {
		delta := d.uvarint()
		if d.err != nil {
			return
		}
		if i > 0 && delta == 0 || prev+delta < prev {
			d.fail("findings not ascending")
			return
		}
		prev += delta
		if _, _, proto := unpack(prev); int(proto) >= len(protos) {
			d.fail("protocol index %d of %d", proto, len(protos))
			return
		}
		fn(protos, prev)
	}
}

// header checks the version and kind.
func (d *decoder) header() Kind {
	if v := d.byte(); d.err == nil && v != Version {
		d.fail("version %d (this build reads version %d)", v, Version)
	}
	k := Kind(d.byte())
	if d.err == nil && (k < KindVulns || k > KindClosed) {
		d.fail("unknown kind %d", k)
	}
	return k
}

func (d *decoder) end() {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the value", len(d.b))
	}
}

// Decode parses a value Encode wrote.
func Decode(b []byte) (Value, error) {
	d := &decoder{b: b}
	v := Value{Kind: d.header()}
	switch v.Kind {
	case KindVulns:
		decodeVulns(d, func(n int) { v.Vulns = make([]Vuln, 0, n) }, func(protos [][]byte, p uint64) {
			plugin, port, proto := unpack(p)
			v.Vulns = append(v.Vulns, Vuln{Plugin: plugin, Port: port, Protocol: string(protos[proto])})
		})
		if len(v.Vulns) == 0 {
			v.Vulns = nil
		}
	case KindCompliance:
		n := d.count(1)
		for range n {
			c := d.bytes()
			if d.err != nil {
				break
			}
			if len(v.Checks) > 0 && string(c) <= v.Checks[len(v.Checks)-1] {
				d.fail("check IDs not ascending")
				break
			}
			v.Checks = append(v.Checks, string(c))
		}
	case KindClosed:
		v.Reason = Reason(d.byte())
		v.ClosedAt = d.varint()
		if d.err == nil && v.Reason != ReasonDeleted && v.Reason != ReasonTerminated {
			d.fail("unknown reason %d", v.Reason)
		}
	}
	d.end()
	if d.err != nil {
		return Value{}, d.err
	}
	return v, nil
}
