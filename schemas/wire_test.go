package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	s := mustGet(t, NameVuln)
	body := []byte{0x02, 0x04, 0x06}

	so := AppendSingleObject([]byte("x"), s, body)[1:]
	if !bytes.Equal(so[:2], []byte{0xC3, 0x01}) || binary.LittleEndian.Uint64(so[2:10]) != s.Fingerprint {
		t.Fatalf("single-object header = %x", so[:10])
	}
	w, err := ParseWire(so)
	if err != nil || w.Kind != WireSingleObject || w.Fingerprint != s.Fingerprint || !bytes.Equal(w.Body, body) {
		t.Fatalf("ParseWire(single object) = %+v, %v", w, err)
	}
	if got, err := ByFingerprint(w.Fingerprint); err != nil || got != s {
		t.Errorf("ByFingerprint = %v, %v", got, err)
	}

	cf := AppendConfluent(nil, 0x01020304, body)
	if !bytes.Equal(cf[:5], []byte{0, 1, 2, 3, 4}) {
		t.Fatalf("confluent header = %x", cf[:5])
	}
	w, err = ParseWire(cf)
	if err != nil || w.Kind != WireConfluent || w.SchemaID != 0x01020304 || !bytes.Equal(w.Body, body) {
		t.Fatalf("ParseWire(confluent) = %+v, %v", w, err)
	}

	// The header-only helpers let the transcoder write the body in place.
	value, _, err := s.NewTranscoder().Transcode(AppendSingleObjectHeader(nil, s), []byte(minimalVuln("")), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err = ParseWire(value)
	if err != nil {
		t.Fatal(err)
	}
	if _, rest, err := s.Codec.NativeFromBinary(w.Body); err != nil || len(rest) != 0 {
		t.Errorf("body after header does not decode: %v", err)
	}
	if !bytes.Equal(AppendConfluentHeader(nil, 7), []byte{0, 0, 0, 0, 7}) {
		t.Error("AppendConfluentHeader")
	}
}

func TestParseWireRejects(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
	}{
		{"empty", nil},
		{"JSON object", []byte(`{"fqdn":["a"]}`)},
		{"JSON with BOM and space", []byte("\xef\xbb\xbf {}")},
		{"short single object", []byte{0xC3, 0x01, 1, 2, 3}},
		{"wrong single-object marker", []byte{0xC3, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"short confluent", []byte{0, 0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w, err := ParseWire(tt.value); !errors.Is(err, ErrNotAvro) {
				t.Errorf("ParseWire = %+v, %v; want ErrNotAvro", w, err)
			}
		})
	}
	if WireSingleObject.String() != "avro-single-object" || WireConfluent.String() != "confluent" {
		t.Error("WireKind names")
	}
}
