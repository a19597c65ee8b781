package tenable

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecodeChunk compares the splitter with jsontext, a full validating
// decoder: a body jsontext reads is split into the same records; a body the
// splitter reads whose records are all valid JSON is one jsontext reads the same
// way (the splitter leaves the grammar inside a record to the record's parser,
// nothing else); a top-level scalar it hands over is always valid JSON; resuming
// after k records hands over exactly the records after the k-th.
func FuzzDecodeChunk(f *testing.F) {
	for _, seed := range []string{`[]`, `[{"a":1},{"b":[1,2]}]`, `[{"a":1},`, `{"a":1}`, `[1,"x",null,true]`, ``,
		`[{"a":"\u00e9"}]`, `[{"a":"\\"},{"b":"\""}]`, `[ {"a":[{}]} , [] ,"\\\"]" ]`, `[{"a":nope}]`, `[{]}]`, `[1,]`} {
		f.Add([]byte(seed), uint8(0))
	}
	opts := []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	f.Fuzz(func(t *testing.T, body []byte, skip uint8) {
		var all [][]byte
		n, err := DecodeChunk(bytes.NewReader(body), 0, func(r []byte) error {
			all = append(all, bytes.Clone(r))
			return nil
		})
		if n != len(all) {
			t.Fatalf("n = %d, handed over %d", n, len(all))
		}

		var want [][]byte
		_, refErr := decodeArray(jsontext.NewDecoder(bytes.NewReader(body), opts...), 0, func(r []byte) error {
			want = append(want, bytes.Clone(r))
			return nil
		})
		allValid := true
		for _, r := range all {
			valid := jsontext.Value(r).IsValid(opts...)
			allValid = allValid && valid
			if c := r[0]; c != '{' && c != '[' && !valid {
				t.Fatalf("top-level scalar %q is not valid JSON", r)
			}
		}
		if refErr == nil && (err != nil || !equalRecords(all, want)) {
			t.Fatalf("jsontext reads %d records, the splitter %d (err %v)", len(want), len(all), err)
		}
		if err == nil && allValid && (refErr != nil || !equalRecords(all, want)) {
			t.Fatalf("the splitter reads %d valid records, jsontext %d (err %v)", len(all), len(want), refErr)
		}
		if err != nil {
			return
		}
		k := min(int(skip), len(all))
		var rest [][]byte
		m, err := DecodeChunk(bytes.NewReader(body), k, func(r []byte) error {
			rest = append(rest, bytes.Clone(r))
			return nil
		})
		if err != nil || m != n || !equalRecords(rest, all[k:]) {
			t.Fatalf("skip %d: n %d, %d records, err %v", k, m, len(rest), err)
		}
	})
}

func equalRecords(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// FuzzRetryAfter: any header value gives a delay within [0, maxRetryAfter].
func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"30", "1.5", "-3", "Wed, 21 Oct 2015 07:28:00 GMT", "", "1e309", "NaN", "Inf"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("Retry-After %q gave %v", v, d)
		}
	})
}
