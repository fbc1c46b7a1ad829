package sqlextract

import (
	"fmt"
	"sort"
	"strings"
)

// Column is a warehouse column: its table as ExtractTables names it
// (lower-cased, dotted) and its own lower-cased name.
type Column struct {
	Table, Name string
}

// Output is one column a query returns, with the warehouse columns it reads.
type Output struct {
	Name    string   // as the query returns it: the alias, else the column's own name; "" for an unnamed expression
	Sources []Column // sorted, each once; none for a literal or count(*)
	Derived bool     // computed from Sources (an expression), not one of them as it is
}

// Unresolved is a select-list item whose columns the SQL does not make clear.
type Unresolved struct {
	Name   string // the column it returns, when the item names one (its alias or column)
	Item   string // the item as written
	Reason string // why it is not resolved, in words a user can act on
	Table  string // for `*` over one table: the table it selects every column of
}

// Columns is what a query's select list reads: every item of its outermost
// select list is either one Output or one Unresolved, in the order written.
type Columns struct {
	Outputs    []Output
	Unresolved []Unresolved
}

// ExtractColumns reads the columns of a query's outermost select list back
// to warehouse columns. It follows table aliases, column aliases, subqueries
// in FROM, CTEs and set operations. An item whose source is not clear (an
// unqualified name over several tables, `*`, a scalar subquery) is reported
// unresolved with the reason: it is never guessed. It never fails.
func ExtractColumns(sql string) Columns {
	toks := lexSQL(sql)
	r := &resolver{sql: []rune(sql)}
	items := r.query(toks, nil, 0)
	var out Columns
	for _, it := range items {
		if it.unresolved != nil {
			out.Unresolved = append(out.Unresolved, *it.unresolved)
			continue
		}
		out.Outputs = append(out.Outputs, it.output)
	}
	return out
}

// maxDepth bounds nested subqueries and CTEs, so that no input recurses
// without end.
const maxDepth = 32

// item is one select-list item, resolved or not.
type item struct {
	name       string // the column the item returns, "" if unnamed
	text       string // the item as written
	output     Output
	unresolved *Unresolved
}

type resolver struct {
	sql []rune
}

// text is the SQL that toks span, as written.
func (r *resolver) text(toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return strings.TrimSpace(string(r.sql[toks[0].start:toks[len(toks)-1].end]))
}

// scope holds the CTEs visible to a query, innermost first.
type scope struct {
	ctes   map[string][]token // a CTE's body, inside its parentheses
	cols   map[string][]string
	memo   map[string][]item
	busy   map[string]bool // CTEs being resolved: a recursive one reads itself
	parent *scope
}

// cte finds a CTE by name, with the scope that defines it.
func (s *scope) cte(name string) (*scope, []token, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		if body, ok := sc.ctes[name]; ok {
			return sc, body, true
		}
	}
	return nil, nil, false
}

// query resolves a whole query: WITH, then branches joined by set operators.
func (r *resolver) query(toks []token, parent *scope, depth int) []item {
	if depth > maxDepth {
		return nil
	}
	sc, rest := r.with(toks, parent)
	var merged []item
	for n, branch := range splitSetOps(rest) {
		items := r.branch(branch, sc, depth)
		if n == 0 {
			merged = items
			continue
		}
		merged = mergeBranch(merged, items)
	}
	return merged
}

// mergeBranch adds a later UNION (EXCEPT, …) branch's sources, by position,
// to the first branch's columns, which name them.
func mergeBranch(first, later []item) []item {
	if len(first) != len(later) {
		for i := range first {
			first[i] = unresolvedItem(first[i], "the branches of the set operation return different numbers of columns")
		}
		return first
	}
	for i := range first {
		switch {
		case first[i].unresolved != nil:
		case later[i].unresolved != nil:
			first[i] = unresolvedItem(first[i], "another branch of the set operation: "+later[i].unresolved.Reason)
		default:
			first[i].output.Sources = uniqueColumns(append(first[i].output.Sources, later[i].output.Sources...))
			first[i].output.Derived = first[i].output.Derived || later[i].output.Derived
		}
	}
	return first
}

// unresolvedItem turns a resolved item into an unresolved one, keeping the
// first reason.
func unresolvedItem(it item, reason string) item {
	if it.unresolved != nil {
		return it
	}
	return unresolved(it.name, it.text, reason)
}

// with reads a leading WITH clause into a scope and returns what follows it.
func (r *resolver) with(toks []token, parent *scope) (*scope, []token) {
	sc := &scope{parent: parent}
	if len(toks) == 0 || !is(toks[0], "with") {
		return sc, toks
	}
	sc.ctes, sc.cols = map[string][]token{}, map[string][]string{}
	sc.memo, sc.busy = map[string][]item{}, map[string]bool{}
	j := 1
	if j < len(toks) && is(toks[j], "recursive") {
		j++
	}
	for j < len(toks) && isWord(toks[j]) {
		name := strings.ToLower(toks[j].text)
		j++
		if j < len(toks) && isPunct(toks[j], "(") {
			var cols []token
			cols, j = inParens(toks, j)
			sc.cols[name] = wordList(cols)
		}
		if j >= len(toks) || !is(toks[j], "as") {
			return sc, toks[j:]
		}
		for j++; j < len(toks) && (is(toks[j], "materialized") || is(toks[j], "not")); j++ {
		}
		if j >= len(toks) || !isPunct(toks[j], "(") {
			return sc, toks[j:]
		}
		sc.ctes[name], j = inParens(toks, j)
		if j < len(toks) && isPunct(toks[j], ",") {
			j++
			continue
		}
		break
	}
	return sc, toks[j:]
}

// inParens is what the parentheses opening at i hold, and the index after
// them; unclosed ones hold the rest.
func inParens(toks []token, i int) ([]token, int) {
	end := skipParens(toks, i)
	hi := end
	if end-1 > i && isPunct(toks[end-1], ")") {
		hi = end - 1
	}
	return toks[i+1 : hi], end
}

// wordList reads "a, b, c" (a CTE's or an alias's column names).
func wordList(toks []token) []string {
	var out []string
	for _, t := range toks {
		if isWord(t) {
			out = append(out, strings.ToLower(t.text))
		}
	}
	return out
}

func isPunct(t token, p string) bool { return t.kind == tokPunct && t.text == p }

// setOps join the branches of a query.
var setOps = map[string]bool{"union": true, "except": true, "intersect": true, "minus": true}

// splitSetOps splits a query body at its top-level set operators.
func splitSetOps(toks []token) [][]token {
	var out [][]token
	depth, from := 0, 0
	for i := 0; i < len(toks); i++ {
		depth += parenStep(toks[i])
		if depth != 0 || toks[i].kind != tokIdent || !setOps[strings.ToLower(toks[i].text)] {
			continue
		}
		out = append(out, toks[from:i])
		for i+1 < len(toks) && (is(toks[i+1], "all") || is(toks[i+1], "distinct")) {
			i++
		}
		from = i + 1
	}
	return append(out, toks[from:])
}

// parenStep is how a token changes the parenthesis depth.
func parenStep(t token) int {
	switch {
	case isPunct(t, "("):
		return 1
	case isPunct(t, ")"):
		return -1
	}
	return 0
}

// uniqueColumns sorts columns and keeps each once.
func uniqueColumns(cs []Column) []Column {
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].Table != cs[b].Table {
			return cs[a].Table < cs[b].Table
		}
		return cs[a].Name < cs[b].Name
	})
	out := cs[:0]
	for i, c := range cs {
		if i == 0 || c != cs[i-1] {
			out = append(out, c)
		}
	}
	return out
}

// quoted names a table or column in a reason.
func quoted(s string) string { return fmt.Sprintf("`%s`", s) }
