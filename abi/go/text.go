package l8

import "unicode/utf8"

// ParseQuery decodes a raw query string as application/x-www-form-urlencoded,
// the way the WHATWG URL standard (URLSearchParams) does: pairs are separated
// by "&", empty pairs are skipped, a pair without "=" has an empty value, "+"
// is a space, %XX is a byte (a "%" not followed by two hex digits stays as
// it is), and the bytes are then decoded as UTF-8 with invalid sequences
// replaced by U+FFFD. It never fails.
func ParseQuery(query string) Fields {
	var params Fields
	for len(query) > 0 {
		pair := query
		if i := indexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			query = ""
		}
		if pair == "" {
			continue
		}
		name, value := pair, ""
		if i := indexByte(pair, '='); i >= 0 {
			name, value = pair[:i], pair[i+1:]
		}
		params = append(params, Field{Name: formDecode(name), Value: formDecode(value)})
	}
	return params
}

// formDecode decodes one name or value of a form-urlencoded query.
func formDecode(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] == '+' || s[i] == '%' {
			plain = false
			break
		}
	}
	if plain {
		return toValidUTF8(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return toValidUTF8(string(out))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// toValidUTF8 replaces every maximal ill-formed subsequence of s with one
// U+FFFD, which is what the WHATWG Encoding standard's UTF-8 decoder (used by
// browsers, Node.js, Rust's from_utf8_lossy) does, so functions in every
// language see the same text for the same bytes. (strings.ToValidUTF8 merges
// adjacent invalid bytes into one U+FFFD, and ranging over a string yields
// one per byte; neither matches.)
func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			out = append(out, s[i])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size != 1 {
			out = append(out, s[i:i+size]...)
			i += size
			continue
		}
		out = append(out, "\uFFFD"...)
		i += invalidPrefixLen(s[i:])
	}
	return string(out)
}

// invalidPrefixLen returns the length of the maximal subpart at the start of
// s, which does not begin with a valid UTF-8 sequence: a lead byte followed by
// the continuation bytes that could still have completed it (Unicode 15, 3.9,
// table 3-7).
func invalidPrefixLen(s string) int {
	c := s[0]
	need := 0
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case 0xE1 <= c && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case 0xF1 <= c && c <= 0xF3:
		need = 3
	default:
		return 1 // a continuation byte or a byte that never starts a sequence
	}
	n := 1
	for n <= need && n < len(s) && lo <= s[n] && s[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

// itoa formats n in decimal (strconv.Itoa without the rest of strconv).
func itoa(v int) string {
	n := uint64(v)
	if v < 0 {
		n = uint64(-int64(v))
	}
	var buf [21]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if v < 0 {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
