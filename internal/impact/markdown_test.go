package impact

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden comments in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/impact -update to write it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// A comment with both severities, both tools, names that markdown and HTML
// would misread, a link with parentheses, and the owner's e-mail only when
// asked for.
func TestMarkdownGolden(t *testing.T) {
	base := jaffle()
	head := base.clone()
	delete(head.nodes["model.p.orders"]["columns"].(map[string]any), "discount")
	head.set("model.p.stg_orders", "raw_code", "select 1")
	tricky := board(`Q1 <script>alert(1)</script> *bold* | [x](y) _under_ #1`, []string{"model.p.orders"},
		map[string][]string{"model.p.orders": {"discount"}})
	tricky.URL = "https://tableau.example.com/views/Q1 (draft)/Sheet"
	tricky.OwnerName = "Ada <ada>"
	pbi := board("Finance & Ops", []string{"model.p.orders"}, map[string][]string{"model.p.orders": {"discount", "id"}})
	pbi.Tool, pbi.ToolLabel, pbi.DatasetColumns, pbi.URL = "powerbi", "Power BI", true, "javascript:alert(1)"
	plain := board("Revenue", []string{"model.p.revenue"}, nil)
	res := analyze(t, base, head, tricky, pbi, plain)
	golden(t, "comment.md", Markdown(res, MarkdownOptions{}))
	withEmails := Markdown(res, MarkdownOptions{OwnerEmails: true})
	if !strings.Contains(withEmails, "Ada (ada@example.com)") || strings.Contains(Markdown(res, MarkdownOptions{}), "ada@example") {
		t.Fatalf("owners' e-mail addresses must show only when asked for:\n%s", withEmails)
	}
}

// Long lists fold into <details>, and the comment stops under the limit
// with "and N more".
func TestMarkdownFoldsAndCaps(t *testing.T) {
	base := jaffle()
	head := base.clone()
	head.set("model.p.stg_orders", "raw_code", "select 1")
	var boards []Dashboard
	for i := range 40 {
		boards = append(boards, board(fmt.Sprintf("Dashboard %02d", i), []string{"model.p.revenue"}, nil))
	}
	res := analyze(t, base, head, boards...)
	golden(t, "capped.md", Markdown(res, MarkdownOptions{Limit: 3000}))
	for range 400 {
		boards = append(boards, boards[:40]...)
	}
	big := Markdown(analyze(t, base, head, boards...), MarkdownOptions{})
	if n := len([]rune(big)); n > MaxComment || !strings.Contains(big, "- and ") || !strings.HasSuffix(big, "</sub>\n") {
		t.Fatalf("a comment of %d characters (limit %d), ending %q", n, MaxComment, big[len(big)-200:])
	}
}
