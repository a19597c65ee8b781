package findingindex

import (
	"errors"
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Value
		want Value // what comes back: sets sorted and without duplicates
	}{
		{"vulns", Value{Kind: KindVulns, Vulns: []Vuln{{156641, 445, "TCP"}, {19506, 0, "TCP"}, {10114, 0, "ICMP"}, {19506, 0, "TCP"}}},
			Value{Kind: KindVulns, Vulns: []Vuln{{10114, 0, "ICMP"}, {19506, 0, "TCP"}, {156641, 445, "TCP"}}}},
		{"vulns extremes", Value{Kind: KindVulns, Vulns: []Vuln{{1<<32 - 1, 65535, "UDP"}, {0, 0, "TCP"}}},
			Value{Kind: KindVulns, Vulns: []Vuln{{0, 0, "TCP"}, {1<<32 - 1, 65535, "UDP"}}}},
		{"compliance", Value{Kind: KindCompliance, Checks: []string{"ffee", "00aa", "ffee"}},
			Value{Kind: KindCompliance, Checks: []string{"00aa", "ffee"}}},
		{"closed deleted", Value{Kind: KindClosed, Reason: ReasonDeleted, ClosedAt: 1_700_000_000_123},
			Value{Kind: KindClosed, Reason: ReasonDeleted, ClosedAt: 1_700_000_000_123}},
		{"closed terminated", Value{Kind: KindClosed, Reason: ReasonTerminated, ClosedAt: -5},
			Value{Kind: KindClosed, Reason: ReasonTerminated, ClosedAt: -5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Encode(tc.in)
			if b[0] != Version {
				t.Fatalf("version byte %d", b[0])
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A set of findings costs about five bytes a finding on the topic.
func TestCodecCompact(t *testing.T) {
	v := Value{Kind: KindVulns}
	for i := range 40 {
		v.Vulns = append(v.Vulns, Vuln{Plugin: uint32(10000 + 977*i), Port: uint16(i % 3 * 443), Protocol: []string{"TCP", "UDP"}[i%2]})
	}
	if n := len(Encode(v)); n > 40*6+16 {
		t.Errorf("40 findings take %d bytes", n)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Encode(Value{Kind: KindVulns, Vulns: []Vuln{{1, 2, "TCP"}, {3, 4, "UDP"}}})
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"future version", append([]byte{Version + 1}, good[1:]...)},
		{"unknown kind", []byte{Version, 9}},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"huge count", []byte{Version, byte(KindCompliance), 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"protocol index out of range", []byte{Version, byte(KindVulns), 1, 3, 'T', 'C', 'P', 1, 1}},
		{"not ascending", []byte{Version, byte(KindVulns), 1, 3, 'T', 'C', 'P', 2, 0x80, 0x80, 0x80, 0x80, 0x10, 0}},
		{"unknown reason", []byte{Version, byte(KindClosed), 7, 0}},
		{"protocols not ascending", []byte{Version, byte(KindVulns), 2, 3, 'U', 'D', 'P', 3, 'T', 'C', 'P', 0}},
		{"empty protocol", []byte{Version, byte(KindVulns), 1, 0, 0}},
		{"checks not ascending", []byte{Version, byte(KindCompliance), 2, 1, 'b', 1, 'a'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.in); !errors.Is(err, ErrUndecodable) {
				t.Fatalf("Decode(%x) = %v, want ErrUndecodable", tc.in, err)
			}
		})
	}
}

// FuzzDecode: no input panics the decoder, and what it accepts encodes back to
// the same bytes (one encoding per value).
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Value{Kind: KindVulns, Vulns: []Vuln{{156641, 445, "TCP"}, {19506, 0, "UDP"}}}))
	f.Add(Encode(Value{Kind: KindCompliance, Checks: []string{"a", "b"}}))
	f.Add(Encode(Value{Kind: KindClosed, Reason: ReasonDeleted, ClosedAt: 42}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		if again, err := Decode(Encode(v)); err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("%x decodes to %+v, which does not round-trip (%v)", b, v, err)
		}
		x := New(&MemoryLog{})
		_ = x.Apply(recordOf(KindClosed, "a", nil))
		_ = x.Apply(recordOf(v.Kind, "a", b))
	})
}
