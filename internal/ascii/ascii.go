// Package ascii holds the byte classes of the grammars kcred parses itself
// (image references, label keys, klog flag values): ASCII only, as those
// grammars are, so no Unicode table is consulted.
package ascii

// IsLowerAlnum reports whether c is a-z or 0-9.
func IsLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || IsDigit(c) }

// IsAlpha reports whether c is a-z or A-Z.
func IsAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// IsAlnum reports whether c is a-z, A-Z or 0-9.
func IsAlnum(c byte) bool { return IsAlpha(c) || IsDigit(c) }

// IsDigit reports whether c is 0-9.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// IsDigits reports whether s is one or more of 0-9.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsDigit(s[i]) {
			return false
		}
	}
	return true
}
