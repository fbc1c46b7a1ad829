package exposures

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// SnakeCase never panics and only ever makes dbt-safe names.
func FuzzSnakeCase(f *testing.F) {
	for _, s := range []string{"Umsatz Übersicht", "  --  ", "ÅÉÎ 123", "日本語", ""} {
		f.Add(s)
	}
	safe := regexp.MustCompile(`^([a-z0-9]+(_[a-z0-9]+)*)?$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got := SnakeCase(s); !safe.MatchString(got) {
			t.Fatalf("SnakeCase(%q) = %q", s, got)
		}
	})
}

// A dashboard named like another's fallback ("Workbook 1234abcd" beside an
// unnamed one whose ID ends in 1234abcd) no longer shares its name; the named
// one keeps its own.
func TestFallbackNameDoesNotTakeAnotherDashboardsName(t *testing.T) {
	ids := []string{"aaaaaaaa-0000-0000-0000-00001234abcd", "bbbbbbbb-0000-0000-0000-00001234abcd", "cccccccc-0000-0000-0000-000000000001"}
	labels := []string{"Workbook 1234abcd", "", "Revenue"}
	fb := []string{"workbook_", "workbook_", "workbook_"}
	got := uniqueNames(ids, labels, fb)
	if got[0] != "workbook_1234abcd" || got[1] == got[0] || got[2] != "revenue" {
		t.Fatalf("names %q", got)
	}
	if got[1] != "workbook_bbbbbbbb00000000000000001234abcd" {
		t.Fatalf("the unnamed dashboard should take its whole ID: %q", got[1])
	}
}

// Names are unique for any input, valid dbt names, independent of order, and
// a name that met no other is the one it had before collisions were settled.
func TestNamesPropertyUniqueStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "Workbook", "workbook", "Report", "Sales", "sales!", "1234abcd", "0000abcd", "2026", "日本", "_", "Ü"}
	for round := 0; round < 2000; round++ {
		n := 1 + rng.IntN(8)
		ids, labels, fb := make([]string, n), make([]string, n), make([]string, n)
		for i := range n {
			// IDs share suffixes often, and labels quote other IDs' suffixes.
			ids[i] = fmt.Sprintf("%08x-0000-%04x-%s", rng.IntN(4), i, pieces[6+rng.IntN(2)])
			labels[i] = strings.TrimSpace(pieces[rng.IntN(len(pieces))] + " " + pieces[rng.IntN(len(pieces))])
			fb[i] = []string{"workbook_", "report_"}[rng.IntN(2)]
		}
		got := uniqueNames(ids, labels, fb)
		first, _ := firstNames(ids, labels, fb)
		counts := map[string]int{}
		for _, n := range first {
			counts[n]++
		}
		seen := map[string]bool{}
		for i, name := range got {
			if seen[name] {
				t.Fatalf("round %d: %q twice in %q (ids %q labels %q)", round, name, got, ids, labels)
			}
			seen[name] = true
			if !validName.MatchString(name) {
				t.Fatalf("round %d: %q is not a dbt name", round, name)
			}
			if counts[first[i]] == 1 && name != first[i] {
				t.Fatalf("round %d: %q met no other name but became %q", round, first[i], name)
			}
		}
		perm := rng.Perm(n)
		pi, pl, pf := make([]string, n), make([]string, n), make([]string, n)
		for to, from := range perm {
			pi[to], pl[to], pf[to] = ids[from], labels[from], fb[from]
		}
		again := uniqueNames(pi, pl, pf)
		for to, from := range perm {
			if again[to] != got[from] {
				t.Fatalf("round %d: order changed %q to %q", round, got[from], again[to])
			}
		}
	}
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
