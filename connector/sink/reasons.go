package sink

// The reasons an inbound record is refused: the messages of InvalidError,
// which travel to the dead-letter topic and must say what to fix.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// InvalidError is a record that can never be imported. Reason is a human
// sentence for the dead-letter headers that names the attribute and what is
// wrong with it.
type InvalidError struct {
	Reason string
}

// Error returns the reason.
func (e *InvalidError) Error() string { return "invalid inbound asset: " + e.Reason }

// inboundInvalidf returns an *InvalidError with a formatted reason.
func inboundInvalidf(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// inboundNotJSON describes a value that is not valid JSON. started tells
// whether the value opened like JSON (a first token was read): when it did
// not, the parser's complaint about the first byte says less than the bytes.
func inboundNotJSON(value []byte, started bool, err error) error {
	msg := strings.TrimPrefix(err.Error(), "jsontext: ")
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		msg = "it ends early"
	case !started:
		msg = "it does not start like a JSON object"
	}
	return inboundInvalidf("the value is neither Avro (single-object or Confluent framed) nor valid JSON: %s; it starts with %s", msg, inboundFirstBytes(value))
}

// inboundFirstBytes shows the start of a value as hex and as text (other
// than printable ASCII shown as '.'), so a producer recognises its format.
func inboundFirstBytes(value []byte) string {
	const show = 16
	head := value[:min(len(value), show)]
	var hex, text strings.Builder
	for i, b := range head {
		if i > 0 {
			hex.WriteByte(' ')
		}
		fmt.Fprintf(&hex, "%02x", b)
		if b >= 0x20 && b < 0x7f {
			text.WriteByte(b)
		} else {
			text.WriteByte('.')
		}
	}
	out := fmt.Sprintf("%s (%s)", hex.String(), strconv.Quote(text.String()))
	if len(value) > show {
		out += fmt.Sprintf(" of %d bytes", len(value))
	}
	return out
}

// inboundJSONKindName names a JSON kind for a reason.
func inboundJSONKindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "value"
	}
}

// inboundDescribeJSON describes a JSON value of the wrong type, with short scalars
// shown, e.g. `a number (12345)`.
func inboundDescribeJSON(v jsontext.Value) string {
	switch v.Kind() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return "a string (" + inboundQuote(s) + ")"
		}
		return "a string"
	case '0':
		if len(v) <= 32 {
			return "a number (" + string(v) + ")"
		}
		return "a number"
	case 't', 'f':
		return "a boolean (" + string(v) + ")"
	case 'n':
		return "null"
	default:
		return "a JSON value"
	}
}

// inboundQuote quotes a value for a reason, shortened to a readable length.
func inboundQuote(s string) string {
	const maxLen = 80
	if len(s) <= maxLen {
		return strconv.Quote(s)
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// inboundUnknownHints explain attributes producers are likely to send by mistake.
var inboundUnknownHints = map[string]string{
	"network_id":       "imports always go to the default network",
	"servicenow_sysid": `the import spells it "servicenow_sys_id"`,
}

// inboundUnknownReason refuses attributes the import schema does not have, naming
// them (sorted, at most ten).
func inboundUnknownReason(names []string, where string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	const maxNamed = 10
	var b strings.Builder
	if len(names) == 1 {
		b.WriteString("unknown attribute ")
	} else {
		b.WriteString("unknown attributes ")
	}
	var hints []string
	for i, n := range names {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(names)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(inboundQuote(n))
		if h, ok := inboundUnknownHints[n]; ok {
			hints = append(hints, fmt.Sprintf("%q: %s", n, h))
		}
	}
	if where != "" {
		b.WriteString(" " + where)
	}
	b.WriteString(": Tenable's asset import has no such attribute")
	if len(names) > 1 {
		b.WriteString("s")
	}
	if len(hints) > 0 {
		b.WriteString(" (" + strings.Join(hints, "; ") + ")")
	}
	return b.String()
}
