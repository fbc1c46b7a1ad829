package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	_ "github.com/dbtexposures/terraform-provider-dbtexposures/internal/connectors"
)

// toolPackages are the registered BI tools' packages: internal/<tool name>.
func toolPackages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, c := range bi.Connectors() {
		dir := filepath.Join("internal", c.Tool().Name)
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("the %s connector's package is not %s: %v", c.Tool().Label, dir, err)
		}
		out = append(out, module+"/internal/"+c.Tool().Name)
	}
	return out
}

// within reports whether pkg is root or below it.
func within(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// The exposures core and the SQL extractor know no BI tool, and the server's
// storage knows no API client: each imports (even indirectly) none of them.
func TestImportRules(t *testing.T) {
	tools := toolPackages(t)
	clients := append([]string{module + "/internal/dbtcloud", module + "/internal/connectors"}, tools...)
	rules := []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{"./internal/exposures", append([]string{module + "/internal/connectors"}, tools...), "the exposures core knows no BI tool"},
		{"./internal/sqlextract", append([]string{module + "/internal/connectors", module + "/internal/bi"}, tools...), "the SQL extractor knows no BI tool"},
		{"./internal/server/store", clients, "storage knows no API client"},
	}
	for _, r := range rules {
		for _, p := range deps(t, r.pkg) {
			for _, f := range r.forbidden {
				if within(p.path, f) {
					t.Errorf("%s depends on %s, but %s", r.pkg, p.path, r.why)
				}
			}
		}
	}
}

// Code outside a tool's package never branches on a tool's name or label:
// it uses the tool's typed value and what its connector says.
func TestNoBranchOnToolNames(t *testing.T) {
	var words []string
	for _, c := range bi.Connectors() {
		words = append(words, regexp.QuoteMeta(c.Tool().Name), regexp.QuoteMeta(c.Tool().Label))
	}
	branch := regexp.MustCompile(`(==|!=)\s*"(` + strings.Join(words, "|") + `)"|"(` + strings.Join(words, "|") + `)"\s*(==|!=)|case\s+"(` +
		strings.Join(words, "|") + `)"|\["(` + strings.Join(words, "|") + `)"\]`)
	toolDirs := map[string]bool{}
	for _, c := range bi.Connectors() {
		toolDirs[filepath.Join("internal", c.Tool().Name)] = true
	}
	walkGo(t, func(path string, src []byte) {
		for dir := range toolDirs {
			if strings.HasPrefix(path, dir+string(filepath.Separator)) {
				return
			}
		}
		for i, line := range strings.Split(string(src), "\n") {
			if branch.MatchString(line) {
				t.Errorf("%s:%d branches on a tool's name: %s", path, i+1, strings.TrimSpace(line))
			}
		}
	})
}

// longFunctionsAllowed are lexers and parsers, whose one loop over the input
// reads best whole.
var longFunctionsAllowed = map[string]bool{
	"internal/sqlextract/tables.go lexSQL": true,
}

// Functions stay short: past 60 lines, split them.
func TestFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	walkGo(t, func(path string, src []byte) {
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if lines > 60 && !longFunctionsAllowed[filepath.ToSlash(path)+" "+fn.Name.Name] {
				t.Errorf("%s: %s is %d lines long; split it (at most 60)", path, fn.Name.Name, lines)
			}
		}
	})
}

// walkGo calls each for every non-test Go file of the repository.
func walkGo(t *testing.T, each func(path string, src []byte)) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (skippedDirs[d.Name()] || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		each(path, src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Messages speak of what the user knows (projects, integrations, fields), never
// of a Go type: no string literal names one of our packages' types.
func TestMessagesNameNoInternalType(t *testing.T) {
	var pkgs []string
	entries, err := os.ReadDir("internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			pkgs = append(pkgs, e.Name())
		}
	}
	typeName := regexp.MustCompile(`\b(` + strings.Join(pkgs, "|") + `|store)\.[A-Z][A-Za-z]+\b`)
	fset := token.NewFileSet()
	walkGo(t, func(path string, src []byte) {
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && typeName.MatchString(v) {
				t.Errorf("%s: a message names an internal type: %s", fset.Position(lit.Pos()), typeName.FindString(v))
			}
			return true
		})
	})
}
