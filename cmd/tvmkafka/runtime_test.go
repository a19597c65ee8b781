package main

import "testing"

func TestParseCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"536870912\n", 536870912, true},    // cgroup v2, 512 MiB
		{"max\n", 0, false},                 // v2, no limit
		{"9223372036854771712\n", 0, false}, // v1, no limit
		{"", 0, false},
		{"garbage", 0, false},
		{"0", 0, false},
	} {
		got, ok := parseCgroupLimit([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCgroupLimit(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
