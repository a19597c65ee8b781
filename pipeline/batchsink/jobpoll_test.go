package batchsink

import (
	"testing"
	"time"
)

// TestJobPollsStartFast: a job is first polled after 250 ms, not after the
// longest interval, and the waits grow by half up to it; a longest interval
// below 250 ms is every wait.
func TestJobPollsStartFast(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		longest time.Duration
		want    []time.Duration
	}{
		{2 * time.Second, []time.Duration{250 * ms, 375 * ms, 562500 * time.Microsecond, 843750 * time.Microsecond, 1265625 * time.Microsecond, 1898437500, 2 * time.Second, 2 * time.Second}},
		{100 * ms, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
	} {
		polls := jobPolls(tc.longest)
		for i, want := range tc.want {
			if got := polls.Next(); got != want {
				t.Errorf("longest %v: wait %d is %v, want %v", tc.longest, i+1, got, want)
			}
		}
	}
}
