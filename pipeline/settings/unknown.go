package settings

import (
	"fmt"
	"slices"
	"strings"
)

// Unknown returns a warning for every variable in environ (as os.Environ
// gives it, KEY=VALUE) that starts with prefix and "_" but is not one of
// known: a misspelt variable is otherwise silently ignored and its setting
// keeps its default. A warning names the nearest known variable when one is
// close enough to be the intended one. The warnings are sorted by variable.
func Unknown(environ []string, prefix string, known []string) []string {
	// Names are compared without the shared prefix, which would otherwise
	// make every name look close to every other.
	rest := make([]string, 0, len(known))
	for _, k := range known {
		rest = append(rest, strings.TrimPrefix(k, prefix+"_"))
	}
	var out []string
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, prefix+"_") || slices.Contains(known, key) {
			continue
		}
		msg := fmt.Sprintf("%s is not a setting of this program and is ignored", key)
		if near := Nearest(strings.TrimPrefix(key, prefix+"_"), rest); near != "" {
			msg += fmt.Sprintf("; did you mean %s_%s?", prefix, near)
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out
}

// Nearest returns the candidate closest to s by edit distance, or "" when
// none is close: within a third of s's length, at least two edits.
func Nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes (the
// names compared are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
