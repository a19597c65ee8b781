package tenable

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecodeChunk: any body either decodes into records that are each a valid
// JSON value, or fails with an error; resuming after k records hands over
// exactly the records after the k-th.
func FuzzDecodeChunk(f *testing.F) {
	for _, seed := range []string{`[]`, `[{"a":1},{"b":[1,2]}]`, `[{"a":1},`, `{"a":1}`, `[1,"x",null,true]`, ``, `[{"a":"\u00e9"}]`} {
		f.Add([]byte(seed), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, skip uint8) {
		var all [][]byte
		n, err := DecodeChunk(bytes.NewReader(body), 0, func(r []byte) error {
			if !jsontext.Value(r).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) {
				t.Fatalf("record %q is not a JSON value", r)
			}
			all = append(all, bytes.Clone(r))
			return nil
		})
		if n != len(all) {
			t.Fatalf("n = %d, handed over %d", n, len(all))
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
		if err != nil || m != n || len(rest) != n-k {
			t.Fatalf("skip %d: n %d, %d records, err %v", k, m, len(rest), err)
		}
		for i := range rest {
			if !bytes.Equal(rest[i], all[k+i]) {
				t.Fatalf("record %d after skipping %d differs", i, k)
			}
		}
	})
}

// FuzzParseTime: parsing never panics, and a time it accepts survives a round
// trip through RFC 3339.
func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{"2022-05-28T15:12:03.336Z", "1653750723", "1653750723336", "2022-05-28", "2022/05/28", "", "-1", "1e300", "NaN"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil || v.IsZero() {
			return
		}
		if v.Year() < 0 || v.Year() > 9999 {
			return // outside RFC 3339
		}
		back, err := time.Parse(time.RFC3339Nano, v.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(v) {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v", s, v, err)
		}
	})
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
