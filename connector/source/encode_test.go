package source

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/tvmkafka/tvmkafka/schemas"
)

// TestEncodeToSlabKeepsEveryValue encodes many records into one slab, as a
// chunk publisher does, and checks that each value is still what a separate
// transcoding gives once all were written: values are written in place in
// shared blocks, and a later record (or the block rolling over, or a record
// outgrowing its room) must never overwrite an earlier one.
func TestEncodeToSlabKeepsEveryValue(t *testing.T) {
	sch, err := schemas.Get(schemas.NamePlugin)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []Wire{{Schema: sch}, {Schema: sch, RegistryID: 7}} {
		enc := newEncoderPool(w).get()
		ref := sch.NewTranscoder()
		var s slab
		var values, keys, want [][]byte
		for i := range 3000 {
			// Record sizes vary, and every 500th one carries a long member the
			// schema does not name, so blocks roll over at many offsets.
			pad := ""
			if i%500 == 0 {
				pad = fmt.Sprintf(`,"unnamed":%q`, bytes.Repeat([]byte("x"), 100_000+i))
			}
			rec := fmt.Appendf(nil, `{"id":%d,"name":"plugin %d %s","attributes":{"plugin_name":"p%d"}%s}`,
				1000+i, i, bytes.Repeat([]byte("y"), i%97), i, pad)
			v, k, err := enc.encodeTo(&s, rec, nil)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			values = append(values, v)
			keys = append(keys, s.copy(k))
			body, _, err := ref.Transcode(nil, rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			var framed []byte
			if w.RegistryID > 0 {
				framed = schemas.AppendConfluent(nil, w.RegistryID, body)
			} else {
				framed = schemas.AppendSingleObject(nil, sch, body)
			}
			want = append(want, framed)
		}
		for i := range values {
			if !bytes.Equal(values[i], want[i]) {
				t.Fatalf("wire %+v: value %d changed after later records were encoded", w.RegistryID, i)
			}
			if string(keys[i]) != fmt.Sprint(1000+i) {
				t.Fatalf("key %d = %q", i, keys[i])
			}
		}
	}
}
