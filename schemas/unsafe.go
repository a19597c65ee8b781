package schemas

import "unsafe"

// unsafeBytes views a string as bytes without copying; the bytes must not be
// modified.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// unsafeString views bytes as a string without copying, for calls that do not
// keep the string.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
