package sink_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tvmkafka/tvmkafka/connector/sink"
)

// TestNotJSONReasonShowsTheFirstBytes: a value that is neither Avro nor JSON
// is refused in plain words, with its first bytes as hex and text, instead of
// the JSON parser's complaint about its second byte.
func TestNotJSONReasonShowsTheFirstBytes(t *testing.T) {
	for _, tt := range []struct{ name, value, reason string }{
		{"text", "not JSON", `the value is neither Avro (single-object or Confluent framed) nor valid JSON: it does not start like a JSON object; it starts with 6e 6f 74 20 4a 53 4f 4e ("not JSON")`},
		{"binary, long", "\x01\x02hello, world, and more\xff", `the value is neither Avro (single-object or Confluent framed) nor valid JSON: it does not start like a JSON object; it starts with 01 02 68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 2c 20 ("..hello, world, ") of 25 bytes`},
		{"broken object", `{"fqdn":["a"] "ipv4":[]}`, `the value is neither Avro (single-object or Confluent framed) nor valid JSON: invalid character '"' after object value (expecting ',' or '}') after offset 14; it starts with 7b 22 66 71 64 6e 22 3a 5b 22 61 22 5d 20 22 69 ("{\"fqdn\":[\"a\"] \"i") of 24 bytes`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sink.NewDecoder(nil).Decode(context.Background(), []byte(tt.value))
			var invalid *sink.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("want an *InvalidError, got %v", err)
			}
			if invalid.Reason != tt.reason {
				t.Errorf("reason\n got: %s\nwant: %s", invalid.Reason, tt.reason)
			}
		})
	}
}
