package schemas

import (
	"math"
	"strconv"
)

// Timestamps are written as milliseconds since the Unix epoch (UTC), limited to
// years 0001 to 9999 so that every Avro implementation (e.g. Python datetime)
// can represent them. Anything else goes to extra.
const (
	minTimestampMillis = -62135596800000 // 0001-01-01T00:00:00Z
	maxTimestampMillis = 253402300799999 // 9999-12-31T23:59:59.999Z
	// epochSecondsBelow: a number below it is epoch seconds, otherwise epoch
	// milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
	epochSecondsBelow = 1e11
)

// parseTimestamp converts the text of a Tenable timestamp to epoch milliseconds:
// ISO-8601 / RFC 3339 date-times (fractional seconds truncated to milliseconds;
// "Z", "+hh:mm", "+hhmm" or "+hh" offsets; none means UTC; 'T' or a space before
// the time), dates "YYYY-MM-DD" or "YYYY/MM/DD" (midnight UTC), or a decimal
// number of epoch seconds or milliseconds.
func parseTimestamp(s []byte) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	if c := s[0]; c == '-' || (c >= '0' && c <= '9' && (len(s) < 5 || (s[4] != '-' && s[4] != '/'))) {
		return epochText(s)
	}
	return parseDateTime(s)
}

// epochText converts a decimal number of epoch seconds (below 1e11) or
// milliseconds to milliseconds, rounding down.
func epochText(s []byte) (int64, bool) {
	if !validNumber(s) {
		return 0, false
	}
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	// Fast exact path: [-]int[.frac] with no exponent.
	var whole uint64
	i := 0
	for ; i < len(digits) && digits[i] >= '0' && digits[i] <= '9'; i++ {
		if whole > (math.MaxInt64-9)/10 {
			return 0, false
		}
		whole = whole*10 + uint64(digits[i]-'0')
	}
	var frac []byte
	if i < len(digits) && digits[i] == '.' {
		j := i + 1
		for j < len(digits) && digits[j] >= '0' && digits[j] <= '9' {
			j++
		}
		frac, i = digits[i+1:j], j
	}
	if i != len(digits) { // an exponent: go through float64
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil {
			return 0, false
		}
		return epochFloat(f)
	}
	seconds := float64(whole) < epochSecondsBelow || neg
	var ms int64
	var rest bool // non-zero digits below the millisecond
	if seconds {
		if whole > maxTimestampMillis/1000+1 {
			return 0, false
		}
		ms = int64(whole) * 1000
		for k := 0; k < len(frac); k++ {
			if k < 3 {
				ms += int64(frac[k]-'0') * [3]int64{100, 10, 1}[k]
			} else if frac[k] != '0' {
				rest = true
			}
		}
	} else {
		ms = int64(whole)
		for _, c := range frac {
			if c != '0' {
				rest = true
			}
		}
	}
	if neg {
		ms = -ms
		if rest {
			ms-- // round down
		}
	}
	return ms, ms >= minTimestampMillis && ms <= maxTimestampMillis
}

// epochFloat converts epoch seconds (below 1e11) or milliseconds to
// milliseconds, rounding down.
func epochFloat(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if f < epochSecondsBelow {
		f *= 1000
	}
	f = math.Floor(f)
	if f < minTimestampMillis || f > maxTimestampMillis {
		return 0, false
	}
	return int64(f), true
}

// parseDateTime parses the date and date-time forms of parseTimestamp.
func parseDateTime(s []byte) (int64, bool) {
	if len(s) < 10 {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	sep := s[4]
	if !ok1 || !ok2 || !ok3 || (sep != '-' && sep != '/') || s[7] != sep {
		return 0, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	if len(s) == 10 {
		return days * 86400000, true
	}
	if sep != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
		return 0, false
	}
	t := s[11:]
	if len(t) < 5 || t[2] != ':' {
		return 0, false
	}
	hour, ok1 := digits(t[0:2])
	minute, ok2 := digits(t[3:5])
	if !ok1 || !ok2 || hour > 23 || minute > 59 {
		return 0, false
	}
	t = t[5:]
	var second, millis int64
	if len(t) >= 3 && t[0] == ':' {
		var ok bool
		if second, ok = digits(t[1:3]); !ok || second > 59 {
			return 0, false
		}
		t = t[3:]
		if len(t) > 0 && (t[0] == '.' || t[0] == ',') {
			j := 1
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				if j <= 3 {
					millis = millis*10 + int64(t[j]-'0')
				}
				j++
			}
			if j == 1 {
				return 0, false
			}
			for k := j; k <= 3; k++ { // fewer than three digits
				millis *= 10
			}
			t = t[j:]
		}
	}
	var offset int64 // seconds east of UTC
	switch {
	case len(t) == 0:
	case len(t) == 1 && (t[0] == 'Z' || t[0] == 'z'):
	case t[0] == '+' || t[0] == '-':
		oh, ok := digits(t[1:min(3, len(t))])
		if !ok || len(t) < 3 {
			return 0, false
		}
		var om int64
		switch rest := t[3:]; {
		case len(rest) == 0:
		case len(rest) == 3 && rest[0] == ':':
			om, ok = digits(rest[1:3])
		case len(rest) == 2:
			om, ok = digits(rest)
		default:
			ok = false
		}
		if !ok || oh > 23 || om > 59 {
			return 0, false
		}
		offset = oh*3600 + om*60
		if t[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	ms := (days*86400+hour*3600+minute*60+second-offset)*1000 + millis
	return ms, ms >= minTimestampMillis && ms <= maxTimestampMillis
}

// digits parses a short run of ASCII digits.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
