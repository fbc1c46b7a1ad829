package exposures

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// SnakeCase turns a workbook name into a dbt resource name: ASCII letters,
// digits and single underscores, lower case ("Umsatz Übersicht" ->
// "umsatz_ubersicht"). It may return "" for names with no Latin letters or digits.
func SnakeCase(s string) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent: keep its base letter only
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(unicode.ToLower(r))
		default:
			pendingSep = true
		}
	}
	return b.String()
}

// shortID is a short, stable suffix from a LUID.
func shortID(luid string) string {
	s := strings.ReplaceAll(strings.ToLower(luid), "-", "")
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	return s
}

// uniqueNames gives each dashboard an exposure name: its snake_case name, or,
// when that is empty, taken by another dashboard or starts with a digit, the
// name with a short ID suffix (after its fallback prefix when it has no name or
// starts with a digit). It depends only on the set of dashboards, not their
// order, so names are stable across runs.
func uniqueNames(ids, labels, fallbacks []string) []string {
	base := make([]string, len(ids))
	count := map[string]int{}
	for i := range ids {
		base[i] = SnakeCase(labels[i])
		count[base[i]]++
	}
	out := make([]string, len(ids))
	for i := range ids {
		name := base[i]
		switch {
		case name == "":
			name = fallbacks[i] + shortID(ids[i])
		case count[name] > 1:
			name = name + "_" + shortID(ids[i])
		}
		if name[0] >= '0' && name[0] <= '9' {
			name = fallbacks[i] + name
		}
		out[i] = name
	}
	return out
}
