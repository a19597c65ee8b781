// Export filters shared by every export kind: the request body as an object, typed reads, tags.

package tenablesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Export request bodies are parsed into queries: the validated, normalised
// filters of one export. A query answers both "what goes into this export" and
// the ground truth (Truth), so the two can never disagree.

// badRequest is a validation failure answered with 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// object is a JSON object whose members are decoded on demand.
type object map[string]json.RawMessage

func parseObject(raw []byte, what string) (object, error) {
	o := object{}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return nil, badf("%s must be a JSON object: %v", what, err)
	}
	return o, nil
}

func isNull(r json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(r), []byte("null")) }

func (o object) int(k string) (int64, bool, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return 0, false, nil
	}
	var n json.Number
	if err := json.Unmarshal(r, &n); err != nil {
		// Accept a numeric string, as old pyTenable sent num_assets: "50".
		var s string
		if json.Unmarshal(r, &s) == nil {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				return v, true, nil
			}
		}
		return 0, true, badf("%s must be an integer", k)
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) {
			return 0, true, badf("%s must be an integer", k)
		}
		v = int64(f)
	}
	return v, true, nil
}

// unix reads a Unix-seconds filter and returns it in milliseconds.
func (o object) unix(k string) (int64, error) {
	v, ok, err := o.int(k)
	if err != nil || !ok {
		return 0, err
	}
	if v < 0 {
		return 0, badf("%s must be a Unix time in seconds", k)
	}
	return v * 1000, nil
}

func (o object) bool(k string) (*bool, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(r, &b); err != nil {
		return nil, badf("%s must be a boolean", k)
	}
	return &b, nil
}

func (o object) str(k string) (string, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", badf("%s must be a string", k)
	}
	return s, nil
}

func (o object) strs(k string) ([]string, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var ss []string
	if err := json.Unmarshal(r, &ss); err != nil {
		return nil, badf("%s must be an array of strings", k)
	}
	return ss, nil
}

func (o object) ints(k string) ([]int64, error) {
	r, ok := o[k]
	if !ok || isNull(r) {
		return nil, nil
	}
	var ns []json.Number
	if err := json.Unmarshal(r, &ns); err != nil {
		return nil, badf("%s must be an array of integers", k)
	}
	out := make([]int64, len(ns))
	for i, n := range ns {
		v, err := n.Int64()
		if err != nil {
			return nil, badf("%s must be an array of integers", k)
		}
		out[i] = v
	}
	return out, nil
}

// onlyKnown refuses members that are not in known (and not tag.* when tags is true).
func (o object) onlyKnown(what string, tags bool, known ...string) error {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(known, k) || tags && strings.HasPrefix(k, "tag.") {
			continue
		}
		return badf("unknown %s property: %s", what, k)
	}
	return nil
}

// tagFilter is one "tag.<category>": [values] filter.
type tagFilter struct {
	category string
	values   []string
}

func (o object) tagFilters() ([]tagFilter, error) {
	var out []tagFilter
	keys := make([]string, 0, len(o))
	for k := range o {
		if strings.HasPrefix(k, "tag.") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals, err := o.strs(k)
		if err != nil {
			// A single string is accepted too.
			s, serr := o.str(k)
			if serr != nil {
				return nil, badf("%s must be an array of strings", k)
			}
			vals = []string{s}
		}
		out = append(out, tagFilter{category: strings.TrimPrefix(k, "tag."), values: vals})
	}
	return out, nil
}

// matchTags: AND across categories, OR across values.
func matchTags(w *world, a *asset, tfs []tagFilter) bool {
	for _, tf := range tfs {
		ok := false
		for _, t := range a.tags {
			d := &w.tagDefs[t.def]
			if (d.key == tf.category || strings.ReplaceAll(d.key, " ", "_") == tf.category) && slices.Contains(tf.values, d.value) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func tagEcho(tfs []tagFilter) map[string]any {
	m := map[string]any{}
	for _, tf := range tfs {
		m["tag."+tf.category] = tf.values
	}
	return m
}
