package exposures

import (
	"sort"
	"strconv"
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
// starts with a digit). Should two of those still meet (a dashboard named
// "Workbook 1234abcd" and an unnamed one whose ID ends in 1234abcd), a
// dashboard that carries its own name keeps it and the others take their
// whole ID. Names depend only on the set of dashboards, not their order, so
// they are stable across runs; names that did not meet are left as they were.
func uniqueNames(ids, labels, fallbacks []string) []string {
	out, own := firstNames(ids, labels, fallbacks)
	groups := map[string][]int{}
	for i, n := range out {
		groups[n] = append(groups[n], i)
	}
	taken := make(map[string]bool, len(groups))
	for n := range groups {
		taken[n] = true
	}
	for _, name := range sortedKeys(taken) {
		members := groups[name]
		if len(members) < 2 {
			continue
		}
		sort.Slice(members, func(a, b int) bool {
			x, y := members[a], members[b]
			if own[x] != own[y] {
				return own[x]
			}
			return ids[x] < ids[y] || (ids[x] == ids[y] && labels[x] < labels[y])
		})
		keep := 0
		if own[members[0]] {
			keep = 1
		}
		for _, i := range members[keep:] {
			out[i] = freeName(longName(ids[i], labels[i], fallbacks[i]), taken)
		}
	}
	return out
}

// firstNames are the names before collisions are settled, and whether each is
// the dashboard's own name (no ID in it).
func firstNames(ids, labels, fallbacks []string) ([]string, []bool) {
	base := make([]string, len(ids))
	count := map[string]int{}
	for i := range ids {
		base[i] = SnakeCase(labels[i])
		count[base[i]]++
	}
	out := make([]string, len(ids))
	own := make([]bool, len(ids))
	for i := range ids {
		name := base[i]
		switch {
		case name == "":
			name = fallbacks[i] + shortID(ids[i])
		case count[name] > 1:
			name = name + "_" + shortID(ids[i])
		default:
			own[i] = true
		}
		out[i] = startWithLetter(name, fallbacks[i])
	}
	return out, own
}

// longName is a dashboard's name with its whole ID, for names that met.
func longName(id, label, fallback string) string {
	name := SnakeCase(label)
	if name == "" {
		name = strings.TrimSuffix(fallback, "_")
	}
	if full := SnakeCase(id); full != "" {
		name += "_" + strings.ReplaceAll(full, "_", "")
	}
	return startWithLetter(name, fallback)
}

// freeName takes name, or name_2, name_3… when it is taken.
func freeName(name string, taken map[string]bool) string {
	candidate := name
	for n := 2; taken[candidate]; n++ {
		candidate = name + "_" + strconv.Itoa(n)
	}
	taken[candidate] = true
	return candidate
}

// startWithLetter puts the fallback prefix before a name that starts with a
// digit, which dbt does not accept.
func startWithLetter(name, fallback string) string {
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		return fallback + name
	}
	return name
}
