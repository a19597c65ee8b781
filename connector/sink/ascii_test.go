package sink

import (
	"math/rand/v2"
	"testing"
)

// TestASCIIPrefixesAgreeWithByteLoops: the word-at-a-time prefixes equal a
// plain loop over the bytes, whatever the bytes and where the first
// refused one stands in its word.
func TestASCIIPrefixesAgreeWithByteLoops(t *testing.T) {
	printable := func(s []byte) int {
		for i, c := range s {
			if c < 0x20 || c >= 0x7f {
				return i
			}
		}
		return len(s)
	}
	plain := func(s []byte) int {
		for i, c := range s {
			if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
				return i
			}
		}
		return len(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	special := []byte{0x00, 0x1f, 0x20, 0x21, '"', '\\', 0x7e, 0x7f, 0x80, 0xc3, 0xff}
	for n := range 40 {
		for range 300 {
			s := make([]byte, n)
			for i := range s {
				s[i] = byte(0x20 + r.IntN(0x5f))
			}
			if n > 0 && r.IntN(4) > 0 { // one or two refused bytes, anywhere
				for range 1 + r.IntN(2) {
					s[r.IntN(n)] = special[r.IntN(len(special))]
				}
			}
			if got, want := printablePrefix(s), printable(s); got != want {
				t.Fatalf("printablePrefix(%q) = %d, want %d", s, got, want)
			}
			if got, want := printablePrefix(string(s)), printable(s); got != want {
				t.Fatalf("printablePrefix(string %q) = %d, want %d", s, got, want)
			}
			if got, want := jsonPlainPrefix(s), plain(s); got != want {
				t.Fatalf("jsonPlainPrefix(%q) = %d, want %d", s, got, want)
			}
		}
	}
	// Every byte value at every position of a word.
	for c := range 256 {
		for pos := range 8 {
			s := []byte("abcdefghij")
			s[pos] = byte(c)
			if got, want := printablePrefix(s), printable(s); got != want {
				t.Fatalf("printablePrefix(%q) = %d, want %d", s, got, want)
			}
			if got, want := jsonPlainPrefix(s), plain(s); got != want {
				t.Fatalf("jsonPlainPrefix(%q) = %d, want %d", s, got, want)
			}
		}
	}
}
