// Package schematest helps tests check what reached Kafka: it compares a record
// decoded by an Avro library with the Tenable VM JSON record it was written from,
// following the mapping rules documented in package schemas (typed fields,
// tolerance rules, timestamps as epoch milliseconds, the extra field, tvm.json
// names, derived fields). The rules live in package recordcheck, written apart
// from the transcoder, which package schemas' own tests use as well.
package schematest

import (
	"fmt"
	"sync"

	"github.com/tvmkafka/tvmkafka/schemas"
	"github.com/tvmkafka/tvmkafka/schemas/schematest/recordcheck"
)

// checkers caches the parsed form of each schema: *schemas.Schema -> *recordcheck.Schema.
var checkers sync.Map

func checker(s *schemas.Schema) (*recordcheck.Schema, error) {
	if c, ok := checkers.Load(s); ok {
		return c.(*recordcheck.Schema), nil
	}
	c, err := recordcheck.New([]byte(s.Text))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", s.Name, err)
	}
	checkers.Store(s, c)
	return c, nil
}

// Compare checks that decoded (a record decoded by an independent Avro decoder,
// as plain JSON-like values: map[string]any / []any / float64|int64|json.Number /
// string / bool / nil, timestamps as epoch millis) holds exactly the values of the
// Tenable JSON record tenableJSON under schema s: every member of the JSON is in
// its typed field or in `extra`, nothing is invented, derived fields equal
// derived[...]. It returns every difference found (nil = equal).
//
// Records decoded by fastavro (unions unwrapped) and by goavro (unions wrapped
// in one-entry maps, timestamps as time.Time, or after unwrapping) are accepted.
func Compare(s *schemas.Schema, tenableJSON []byte, decoded map[string]any, derived map[string]string) []string {
	c, err := checker(s)
	if err != nil {
		return []string{err.Error()}
	}
	v, err := recordcheck.DecodeJSON(tenableJSON)
	if err != nil {
		return []string{fmt.Sprintf("Tenable JSON record is not valid JSON: %v", err)}
	}
	in, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("Tenable JSON record %.100s is not an object", tenableJSON)}
	}
	return c.Compare(s.Name.String(), in, decoded, derived)
}

// Plain converts a record of schema s decoded by an Avro library into plain
// values: int64 for int, long and timestamps (epoch milliseconds), float64 for
// double, string, bool, nil, []any and map[string]any, with unions unwrapped.
// It accepts the same forms as Compare; a value that does not fit its field, or a
// field s does not have, is an error.
func Plain(s *schemas.Schema, decoded any) (map[string]any, error) {
	c, err := checker(s)
	if err != nil {
		return nil, err
	}
	out, err := c.Plain(decoded)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", s.Name, err)
	}
	return out, nil
}
