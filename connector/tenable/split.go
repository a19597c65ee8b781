package tenable

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// errNotJSON marks a chunk body whose structure is not a JSON array of values.
var errNotJSON = errors.New("chunk body is not valid JSON")

// splitReadSize is the splitter's first buffer; it grows only to hold the
// largest single record, so memory follows the record, not the chunk.
const splitReadSize = 64 << 10

// splitMaxDepth bounds nesting, as jsontext does.
const splitMaxDepth = 10000

// arraySplitter cuts a JSON array read from a stream into the raw text of its
// elements.
//
// It checks structure, not grammar: brackets matched, strings closed, commas
// between elements, scalars at the top level well formed. The grammar inside an
// element (literals, numbers, escapes) is left to the parser that reads the
// record anyway, the Avro transcoder or encoding/json, which refuses what is
// malformed. A full validating tokenizer here read every byte a second time and
// cost a quarter of the connector's CPU; this one jumps from quote to quote with
// bytes.IndexByte, which is where most of a finding's bytes are.
type arraySplitter struct {
	r        io.Reader
	buf      []byte // buf[off:end] holds the bytes read but not yet handed over
	off, end int
	readErr  error  // the error that ended the stream (io.EOF at its end)
	stack    []byte // open brackets of the element being scanned
}

func newArraySplitter(r io.Reader) *arraySplitter {
	return &arraySplitter{r: r, buf: make([]byte, splitReadSize)}
}

// more reads at least one byte more into the buffer, keeping buf[off:end]. The
// unread bytes may move: callers hold positions relative to off.
func (s *arraySplitter) more() error {
	if s.readErr != nil {
		return s.streamErr()
	}
	if s.off > 0 && s.end-s.off < len(s.buf)/2 { // reuse the front of the buffer
		s.end = copy(s.buf, s.buf[s.off:s.end])
		s.off = 0
	}
	if len(s.buf)-s.end < splitReadSize/2 { // a record longer than the buffer
		grown := make([]byte, 2*len(s.buf))
		s.end = copy(grown, s.buf[s.off:s.end])
		s.off, s.buf = 0, grown
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.readErr = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return s.streamErr()
		}
	}
}

// streamErr is the error for a stream that ended before the array did.
func (s *arraySplitter) streamErr() error {
	switch {
	case errors.Is(s.readErr, io.EOF):
		return fmt.Errorf("%w: %w", errTruncatedChunk, io.ErrUnexpectedEOF)
	case errors.Is(s.readErr, io.ErrUnexpectedEOF): // a body cut short of its Content-Length
		return fmt.Errorf("%w: %w", errTruncatedChunk, s.readErr)
	}
	return fmt.Errorf("read chunk body: %w", s.readErr)
}

// peek returns the byte at off+i, reading more when needed.
func (s *arraySplitter) peek(i int) (byte, error) {
	for s.off+i >= s.end {
		if err := s.more(); err != nil {
			return 0, err
		}
	}
	return s.buf[s.off+i], nil
}

// skipSpace drops the whitespace at off and returns the next byte.
func (s *arraySplitter) skipSpace() (byte, error) {
	for {
		c, err := s.peek(0)
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			return c, nil
		}
		s.off++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotJSON, fmt.Sprintf(format, args...))
}

// each hands every element of the array to fn (skipping the first skip) and
// returns the number of elements read.
func (s *arraySplitter) each(skip int, fn RecordFunc) (int, error) {
	c, err := s.skipSpace()
	if err != nil {
		return 0, err
	}
	if c != '[' {
		return 0, syntaxErr("want '[', found %q", c)
	}
	s.off++
	if c, err = s.skipSpace(); err != nil {
		return 0, err
	}
	if c == ']' {
		s.off++
		return 0, nil
	}
	n := 0
	for {
		size, err := s.element(c)
		if err != nil {
			return n, err
		}
		n++
		if n > skip {
			if err := fn(s.buf[s.off : s.off+size : s.off+size]); err != nil {
				return n, &recordFuncError{err: err}
			}
		}
		s.off += size
		if c, err = s.skipSpace(); err != nil {
			return n, err
		}
		s.off++
		switch c {
		case ']':
			return n, nil
		case ',':
			if c, err = s.skipSpace(); err != nil {
				return n, err
			}
		default:
			return n, syntaxErr("want ',' or ']' after element %d, found %q", n, c)
		}
	}
}

// element measures the element starting at off, whose first byte is c.
func (s *arraySplitter) element(c byte) (int, error) {
	switch c {
	case '{', '[':
		return s.container()
	case '"':
		n, err := s.str(1)
		if err != nil {
			return 0, err
		}
		return n, s.checkScalar(n)
	default:
		return s.scalar()
	}
}

// checkScalar checks the string, number or literal of n bytes at off: an element
// on its own is not parsed again by a record parser that wants objects.
func (s *arraySplitter) checkScalar(n int) error {
	if tok := s.buf[s.off : s.off+n]; !jsontext.Value(tok).IsValid(jsontext.AllowInvalidUTF8(true)) {
		return syntaxErr("invalid value %q", tok)
	}
	return nil
}

// str returns the position just past the string whose content starts at i
// (just after its opening quote).
func (s *arraySplitter) str(i int) (int, error) {
	start := i
	for {
		q := bytes.IndexByte(s.buf[s.off+i:s.end], '"')
		if q < 0 {
			i = s.end - s.off
			if err := s.more(); err != nil {
				return 0, err
			}
			continue
		}
		i += q
		// The quote ends the string unless an odd run of backslashes escapes it;
		// counting back to the string's start is right wherever the reads ended
		// (the whole string is still in the buffer).
		bs := 0
		for j := s.off + i - 1; j >= s.off+start && s.buf[j] == '\\'; j-- {
			bs++
		}
		i++
		if bs%2 == 0 {
			return i, nil
		}
	}
}

// structural marks the bytes that matter outside strings.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// container returns the size of the object or array starting at off.
func (s *arraySplitter) container() (int, error) {
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
	i := 0
	for {
		if s.off+i >= s.end {
			if err := s.more(); err != nil {
				return 0, err
			}
			continue
		}
		c := s.buf[s.off+i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			var err error
			if i, err = s.str(i + 1); err != nil {
				return 0, err
			}
			continue
		case '{', '[':
			if len(stack) == splitMaxDepth {
				return 0, syntaxErr("nesting deeper than %d", splitMaxDepth)
			}
			stack = append(stack, c)
		default: // '}' or ']'
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return 0, syntaxErr("unmatched %q", c)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, nil
			}
		}
		i++
	}
}

// scalar returns the size of the number or literal at off, which must be well
// formed.
func (s *arraySplitter) scalar() (int, error) {
	i := 0
	for {
		c, err := s.peek(i)
		if err != nil {
			return 0, err
		}
		if isSpace(c) || c == ',' || c == ']' {
			break
		}
		i++
	}
	return i, s.checkScalar(i)
}
