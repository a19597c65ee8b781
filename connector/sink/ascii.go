package sink

// Word-at-a-time tests of printable ASCII: nearly every byte of an inbound
// asset is one, and a value's strings are checked, scanned and written, so
// these loops are the decoder's hottest.

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// load64 reads 8 bytes of s at i, little-endian (one load on amd64 and arm64).
func load64[T string | []byte](s T, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// notPrintable has the high bit of each byte of w set that is not printable
// ASCII (0x20 to 0x7e), and maybe of bytes after such a byte, never before
// one: it tells whether a word holds one, exactly.
func notPrintable(w uint64) uint64 {
	// w itself: bytes of 0x80 and above. w - 0x20: bytes below 0x20 (a borrow
	// only flows from such a byte). w + 1: 0x7f (a carry only flows from 0xff).
	return (w | (w - 0x20*lowBits) | (w + lowBits)) & highBits
}

// hasByte has the high bit set of each byte of w equal to b (and maybe of
// bytes after one): it tells whether w holds b, exactly.
func hasByte(w uint64, b byte) uint64 {
	v := w ^ (uint64(b) * lowBits)
	return (v - lowBits) &^ v & highBits
}

// printablePrefix is the length of the longest prefix of s in printable ASCII.
func printablePrefix[T string | []byte](s T) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if notPrintable(load64(s, i)) != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return i
		}
	}
	return i
}

// jsonPlainPrefix is the length of the longest prefix of s in printable ASCII
// other than '"' and '\\': what a JSON string holds as it is, unescaped.
func jsonPlainPrefix[T string | []byte](s T) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s, i)
		if notPrintable(w)|hasByte(w, '"')|hasByte(w, '\\') != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}
