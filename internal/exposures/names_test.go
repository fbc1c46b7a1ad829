package exposures

import (
	"regexp"
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
