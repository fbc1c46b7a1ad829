package bi

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of config fields.
const (
	MaxHostLen  = 253 // RFC 1123
	MaxTextLen  = 255 // names and IDs
	MaxTokenLen = 4096
)

// Text vets a value of at most max characters of valid UTF-8 without
// control characters.
func Text(max int) func(string) error {
	return func(v string) error { return CheckText(v, max) }
}

// CheckText accepts at most max characters of valid UTF-8 without control characters.
func CheckText(v string, max int) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Errorf("is %d characters long; at most %d are allowed", n, max)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		return fmt.Errorf("must not contain control characters (found %U at byte %d)", []rune(v[i:])[0], i)
	}
	return nil
}

// IsHostName reports whether s is an RFC 1123 host name.
func IsHostName(s string) bool {
	if s == "" || len(s) > MaxHostLen {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}
