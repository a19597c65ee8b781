package schemas

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	ms := func(s string) int64 {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts.UnixMilli()
	}
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2022-05-28T15:12:03.336Z", ms("2022-05-28T15:12:03.336Z"), true},
		{"2023-05-04T05:13:40.809406Z", ms("2023-05-04T05:13:40.809Z"), true},
		{"2018-03-29T04:37:27Z", ms("2018-03-29T04:37:27Z"), true},
		{"2018-03-29t04:37:27z", ms("2018-03-29T04:37:27Z"), true},
		{"2018-03-29 04:37:27", ms("2018-03-29T04:37:27Z"), true},
		{"2018-03-29T04:37", ms("2018-03-29T04:37:00Z"), true},
		{"2018-03-29T04:37:27.5", ms("2018-03-29T04:37:27.5Z"), true},
		{"2018-03-29T04:37:27,25Z", ms("2018-03-29T04:37:27.25Z"), true},
		{"2018-03-29T04:37:27+02:00", ms("2018-03-29T02:37:27Z"), true},
		{"2018-03-29T04:37:27-0530", ms("2018-03-29T10:07:27Z"), true},
		{"2018-03-29T04:37:27+01", ms("2018-03-29T03:37:27Z"), true},
		{"2022-01-11", ms("2022-01-11T00:00:00Z"), true},
		{"2005/08/26", ms("2005-08-26T00:00:00Z"), true},
		{"2024-02-29", ms("2024-02-29T00:00:00Z"), true},
		{"1969-12-31T23:59:59.999Z", -1, true},
		{"0001-01-01T00:00:00Z", minTimestampMillis, true},
		{"9999-12-31T23:59:59.999Z", maxTimestampMillis, true},
		{"1651251508", 1651251508000, true},
		{"1654275509177", 1654275509177, true},
		{"1651251508.25", 1651251508250, true},
		{"99999999999", 99999999999000, true}, // below 1e11: seconds
		{"100000000000", 100000000000, true},  // 1e11: milliseconds
		{"-1.0005", -1001, true},
		{"-86400", -86400000, true},
		{"1.6e9", 1600000000000, true},
		{"0", 0, true},

		{"", 0, false},
		{"2018-02-31T22:27:52.869Z", 0, false}, // no 31 February
		{"2023-02-29", 0, false},
		{"2018-13-01", 0, false},
		{"2018-03-29T24:00:00Z", 0, false},
		{"2018-03-29T23:60:00Z", 0, false},
		{"2018-03-29T23:59:60Z", 0, false},
		{"2018-03-29T23:59:59.Z", 0, false},
		{"2018-03-29T23:59:59+25:00", 0, false},
		{"2018-03-29T23:59:59 UTC", 0, false},
		{"2018/03/29T23:59:59Z", 0, false},
		{"2018-03/29", 0, false},
		{"0000-01-01", 0, false},
		{"0001-01-01T00:00:00+01:00", 0, false}, // before year 1 in UTC
		{"yesterday", 0, false},
		{"1e300", 0, false},
		{"-62135596801", 0, false},
		{"12abc", 0, false},
		{"N/A", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseTimestamp([]byte(tt.in))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseTimestampAgreesWithTimePackage compares random instants, formatted
// with random offsets and precisions, with the time package.
func TestParseTimestampAgreesWithTimePackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	layouts := []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000000Z0700"}
	for range 20000 {
		sec := rng.Int64N(maxTimestampMillis/1000-minTimestampMillis/1000-2*86400) + minTimestampMillis/1000 + 86400
		ts := time.Unix(sec, rng.Int64N(1e9)).In(time.FixedZone("", (rng.IntN(48)-24)*1800))
		layout := layouts[rng.IntN(len(layouts))]
		text := ts.Format(layout)
		want, err := time.Parse(layout, text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		got, ok := parseTimestamp([]byte(text))
		if !ok || got != want.UnixMilli() {
			t.Fatalf("parseTimestamp(%q) = %d, %v; want %d", text, got, ok, want.UnixMilli())
		}
	}
}

// FuzzParseTimestamp: parsing never panics, an accepted timestamp lies within
// years 0001 to 9999, and its RFC 3339 text reads back, with parseTimestamp and
// with the time package, as the same millisecond.
func FuzzParseTimestamp(f *testing.F) {
	for _, seed := range []string{"2022-05-28T15:12:03.336Z", "1653750723", "1653750723336", "1653750723.336", "2022-05-28",
		"2022/05/28", "2022-05-28 15:12:03+0200", "", "-1", "1e300", "NaN", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999Z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, ok := parseTimestamp([]byte(s))
		if !ok {
			return
		}
		if ms < minTimestampMillis || ms > maxTimestampMillis {
			t.Fatalf("%q gave %d ms, outside years 0001-9999", s, ms)
		}
		text := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		back, ok := parseTimestamp([]byte(text))
		if !ok || back != ms {
			t.Fatalf("%q gave %d ms = %s, which reads back as %d, %v", s, ms, text, back, ok)
		}
		if tt, err := time.Parse(time.RFC3339Nano, text); err != nil || tt.UnixMilli() != ms {
			t.Fatalf("%q gave %s, which the time package reads as %v, %v", s, text, tt, err)
		}
	})
}
