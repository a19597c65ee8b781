package sink

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
	"github.com/tvmkafka/tvmkafka/schemas"
)

// FuzzDecode: no value makes Decode panic or fail other than with an
// *InvalidError (the fake registry is always reachable); a decoded asset
// satisfies every rule and decodes, as JSON, to itself.
func FuzzDecode(f *testing.F) {
	for _, tc := range inboundJSONCases {
		f.Add([]byte(tc.value))
	}
	s := inboundSchema(f)
	for _, attrs := range []map[string]any{
		{"fqdn": []string{"a.example.com"}, "ipv4": []string{"10.0.0.1", "10.0.0.1"}, "aws_region": "eu-west-1"},
		{"mac_address": []string{"00-11-22-33-44-55"}, "ipv6": []string{"2001:DB8::1"}, "extra": `{"custom":1}`},
		{"netbios_name": "H", "installed_software": []string{"cpe:/a:x:y:1"}, "gcp_zone": "z", "extra": "{}"},
	} {
		body := inboundAvroBody(f, s, attrs)
		f.Add(schemas.AppendSingleObject(nil, s, body))
		f.Add(schemas.AppendConfluent(nil, 1, body))
		f.Add(schemas.AppendConfluent(nil, 2, body))
	}
	f.Add(schemas.AppendSingleObject(nil, s, []byte{2, 0xfe, 0xff, 0xff, 0xff, 0x0f}))

	reg := newInboundFakeRegistry(f)
	clear(reg.errs)
	d := NewDecoder(reg)
	f.Fuzz(func(t *testing.T, value []byte) {
		a, err := d.Decode(t.Context(), value)
		if err != nil {
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decode(%q): %v is not an *InvalidError", value, err)
			}
			if invalid.Reason == "" || a.JSON != nil {
				t.Fatalf("Decode(%q): empty reason or asset with error", value)
			}
			return
		}
		assertInboundAssetRules(t, a)
		again, err := d.Decode(t.Context(), a.JSON)
		if err != nil || !bytes.Equal(again.JSON, a.JSON) || again.Cloud != a.Cloud {
			t.Fatalf("asset %s (%v) decodes to %s (%v), %v", a.JSON, a.Cloud, again.JSON, again.Cloud, err)
		}
	})
}

// fuzzBodyPadding pads the assets of FuzzBodyBuilder, up to twice the limit.
var fuzzBodyPadding = sync.OnceValue(func() []byte { return bytes.Repeat([]byte("y"), 2*tenable.MaxImportBodyBytes+2) })

// FuzzBodyBuilder: whatever the source, limit and sequence of assets, Fits
// agrees with the arithmetic, Len is the exact length of Bytes, the body never
// reaches the limit, and it decodes to the source and the assets added.
func FuzzBodyBuilder(f *testing.F) {
	f.Add("tvmkafka", uint32(tenable.MaxImportBodyBytes), []byte{1, 2, 200, 255, 0, 3})
	f.Add("a \"quoted\" <source>\n", uint32(1024), []byte{10, 20, 30, 40, 50, 0xff, 60})
	f.Add("s", uint32(27), []byte{0, 0, 0})
	f.Add("", uint32(1000), []byte{1})
	f.Add("s", uint32(tenable.MaxImportBodyBytes+1), []byte{1})
	f.Add("\xff", uint32(1000), []byte{1})
	f.Fuzz(func(t *testing.T, source string, limit uint32, steps []byte) {
		maxBytes := int(limit % (tenable.MaxImportBodyBytes + 2))
		quoted, qerr := jsontext.AppendQuote(nil, source)
		envelope := len(`{"source":,"assets":[]}`) + len(quoted)
		refuse := source == "" || qerr != nil || maxBytes > tenable.MaxImportBodyBytes || envelope >= maxBytes
		b, err := NewBodyBuilder(source, maxBytes)
		if (err != nil) != refuse {
			t.Fatalf("NewBodyBuilder(%q, %d): %v; want refused: %v", source, maxBytes, err, refuse)
		}
		if err != nil {
			return
		}
		if b.Len() != envelope {
			t.Fatalf("empty body of %d bytes, want %d", b.Len(), envelope)
		}
		empty := b.Len()
		var added []Asset
		var asset []byte
		padding := fuzzBodyPadding()
		if len(steps) > 32 {
			steps = steps[:32]
		}
		for _, step := range steps {
			if step == 0xff {
				b.Reset()
				added = added[:0]
				if b.Len() != empty {
					t.Fatalf("after Reset: %d bytes, want %d", b.Len(), empty)
				}
				continue
			}
			// Asset sizes in steps of a 128th of the limit, some larger than it.
			size := 9 + int(step)*maxBytes/128
			asset = append(append(append(asset[:0], `{"x":"`...), padding[:size-9]...), `"}`...)
			a := Asset{JSON: asset}
			before := b.Len()
			grown := before + len(a.JSON)
			if b.Count() > 0 {
				grown++
			}
			fits := b.Fits(a)
			if fits != (grown < maxBytes) {
				t.Fatalf("Fits = %v for a body of %d bytes with limit %d", fits, grown, maxBytes)
			}
			err := b.Add(a)
			switch {
			case fits && err != nil:
				t.Fatalf("Add: %v", err)
			case fits:
				added = append(added, Asset{JSON: slices.Clone(a.JSON)})
				if b.Len() != grown {
					t.Fatalf("Len = %d, want %d", b.Len(), grown)
				}
			case empty+len(a.JSON) >= maxBytes && !errors.Is(err, ErrAssetTooLarge):
				t.Fatalf("Add of an asset larger than any body: %v", err)
			case empty+len(a.JSON) < maxBytes && err != ErrBodyFull:
				t.Fatalf("Add of an asset that does not fit now: %v", err)
			case b.Len() != before:
				t.Fatalf("refused Add changed the body from %d to %d bytes", before, b.Len())
			}
			if b.Len() != len(b.Bytes()) || b.Len() >= maxBytes {
				t.Fatalf("Len = %d, len(Bytes()) = %d, limit %d", b.Len(), len(b.Bytes()), maxBytes)
			}
		}
		checkBuiltBody(t, b, source, added)
	})
}
