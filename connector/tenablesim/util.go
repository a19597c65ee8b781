package tenablesim

import (
	"sort"
	"time"
)

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func sortSlice[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}
