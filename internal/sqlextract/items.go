package sqlextract

import "strings"

// exprKeywords are words inside an expression that are not columns.
var exprKeywords = wordSet(`and or not null is in like ilike rlike regexp similar escape between true false
	case when then else end distinct all any some exists over partition by order asc desc nulls first last
	filter where within group as interval rows range groups unbounded preceding following current row
	current_date current_timestamp current_time localtime localtimestamp collate at time zone with
	ignore respect to from for select`)

// datePartFunctions take a bare date part as their first argument.
var datePartFunctions = wordSet(`extract date_trunc datediff dateadd date_part datepart timestampdiff
	timestampadd timestamp_diff timestamp_add date_diff date_add date_sub last_day time_slice`)

func wordSet(words string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(words) {
		out[w] = true
	}
	return out
}

// selectItem resolves one select-list item; `*` over subqueries gives
// their columns.
func (r *resolver) selectItem(toks []token, sources []source) []item {
	text := r.text(toks)
	if qualifier, ok := starItem(toks); ok {
		return r.star(text, qualifier, sources)
	}
	expr, alias := splitAlias(toks)
	refs := columnRefs(expr)
	whole := len(refs) == 1 && refs[0].whole
	out := Output{Name: alias, Derived: !whole}
	if alias == "" && whole {
		out.Name = refs[0].parts[len(refs[0].parts)-1]
	}
	if containsWord(expr, "select") {
		return []item{unresolved(out.Name, text, "a subquery in the select list is not followed")}
	}
	for _, ref := range refs {
		cols, derived, reason := resolveRef(ref.parts, sources)
		if reason != "" {
			return []item{unresolved(out.Name, text, reason)}
		}
		out.Sources = append(out.Sources, cols...)
		out.Derived = out.Derived || derived
	}
	out.Sources = uniqueColumns(out.Sources)
	return []item{{name: out.Name, text: text, output: out}}
}

// unresolved is an item named name (the alias or column, if any) whose
// columns are not clear.
func unresolved(name, text, reason string) item {
	return item{name: name, text: text, unresolved: &Unresolved{Name: name, Item: text, Reason: reason}}
}

func containsWord(toks []token, w string) bool {
	for _, t := range toks {
		if is(t, w) {
			return true
		}
	}
	return false
}

// starItem recognises `*` and `q.*`.
func starItem(toks []token) (qualifier string, ok bool) {
	n := len(toks)
	if n == 0 || toks[n-1].kind != tokOther || toks[n-1].text != "*" {
		return "", false
	}
	if n == 1 {
		return "", true
	}
	name, next := qualifiedName(toks, 0)
	if name == nil || next != n-2 || !isPunct(toks[n-2], ".") {
		return "", false
	}
	return strings.ToLower(strings.Join(name, ".")), true
}

// star resolves `*` or `q.*`: a subquery's or CTE's known columns, else
// unresolved, since the SQL does not name a table's columns.
func (r *resolver) star(text, qualifier string, sources []source) []item {
	chosen := sources
	if qualifier != "" {
		src, reason := findSource(qualifier, sources)
		if reason != "" {
			return []item{unresolved("", text, reason)}
		}
		chosen = []source{src}
	}
	var out []item
	for _, src := range chosen {
		switch {
		case src.derived:
			out = append(out, src.outputs...)
		case src.opaque != "":
			return []item{unresolved("", text, "`*`: "+src.opaque)}
		case len(chosen) == 1:
			return []item{{unresolved: &Unresolved{Item: text, Table: src.table,
				Reason: "`*` selects every column of " + quoted(src.table) + "; the SQL does not name them"}}}
		default:
			return []item{unresolved("", text, "`*` selects every column of several tables; the SQL does not name them")}
		}
	}
	if len(chosen) == 0 {
		return []item{unresolved("", text, "`*` with no FROM clause")}
	}
	return out
}

// splitAlias splits "expr [AS] alias" into the expression and the alias.
func splitAlias(toks []token) ([]token, string) {
	n := len(toks)
	if n >= 2 && is(toks[n-2], "as") && isWord(toks[n-1]) {
		return toks[:n-2], toks[n-1].text
	}
	if n >= 2 && isWord(toks[n-1]) && !keyword(toks[n-1]) && endsExpression(toks[n-2]) {
		return toks[:n-1], toks[n-1].text
	}
	return toks, ""
}

// endsExpression is a token an expression can end with, so that a word
// after it is an alias.
func endsExpression(t token) bool {
	switch t.kind {
	case tokIdent:
		return !exprKeywords[strings.ToLower(t.text)] || is(t, "end") || is(t, "null") || is(t, "true") || is(t, "false")
	case tokQuoted, tokString, tokNumber:
		return true
	}
	return isPunct(t, ")")
}

func keyword(t token) bool { return t.kind == tokIdent && exprKeywords[strings.ToLower(t.text)] }

// ref is a column reference in an expression.
type ref struct {
	parts []string
	whole bool // the reference is the whole expression
}

// columnRefs finds the column references of an expression: qualified or
// bare names that are not keywords, functions, types or date parts.
func columnRefs(expr []token) []ref {
	var out []ref
	for i := 0; i < len(expr); {
		name, next := qualifiedName(expr, i)
		if name == nil || skipWord(expr, i, next) {
			i = max(next, i+1)
			continue
		}
		out = append(out, ref{parts: name, whole: i == 0 && next == len(expr)})
		i = next
	}
	return out
}

// skipWord says the name at i..next is not a column: a keyword, a function,
// a type, a date part, a named argument or a typed literal's type.
func skipWord(toks []token, i, next int) bool {
	t := toks[i]
	if i > 0 && (isPunct(toks[i-1], ".") || toks[i-1].kind == tokOther && toks[i-1].text == ":") {
		return true // a part of something already read, or a type after ::
	}
	if i > 0 && is(toks[i-1], "as") {
		return true // CAST(x AS type)
	}
	if next-i == 1 && keyword(t) {
		return true
	}
	if next < len(toks) && (isPunct(toks[next], "(") || toks[next].kind == tokString ||
		toks[next].kind == tokOther && toks[next].text == "=") {
		return true // a function, DATE '2024-01-01', or name => value
	}
	return i >= 2 && isPunct(toks[i-1], "(") && toks[i-2].kind == tokIdent && datePartFunctions[strings.ToLower(toks[i-2].text)]
}

// resolveRef finds the warehouse columns a reference reads, or why not.
func resolveRef(parts []string, sources []source) ([]Column, bool, string) {
	name := strings.ToLower(parts[len(parts)-1])
	if len(parts) > 1 {
		src, reason := findSource(strings.ToLower(strings.Join(parts[:len(parts)-1], ".")), sources)
		if reason != "" {
			return nil, false, reason
		}
		return inSource(src, name)
	}
	switch len(sources) {
	case 0:
		return nil, false, quoted(name) + " is read with no FROM clause"
	case 1:
		return inSource(sources[0], name)
	}
	var holders []source
	for _, s := range sources {
		if !s.derived {
			return nil, false, quoted(name) + " is not qualified and the query reads several relations (" +
				aliases(sources) + "); qualify it with its table to resolve it"
		}
		if _, ok := findOutput(s.outputs, name); ok {
			holders = append(holders, s)
		}
	}
	if len(holders) != 1 {
		return nil, false, quoted(name) + " is not qualified and is not one column of exactly one of " + aliases(sources)
	}
	return inSource(holders[0], name)
}

// aliases lists sources' names for a reason.
func aliases(sources []source) string {
	names := make([]string, 0, len(sources))
	for _, s := range sources {
		names = append(names, quoted(s.alias))
	}
	return strings.Join(names, ", ")
}

// findSource finds the relation a qualifier names: its alias, its table's
// full name, or the table name's last parts.
func findSource(q string, sources []source) (source, string) {
	for _, s := range sources {
		if s.alias == q || (s.table != "" && (s.table == q || strings.HasSuffix(s.table, "."+q))) {
			return s, ""
		}
	}
	return source{}, "no relation or alias " + quoted(q) + " in the FROM clause"
}

// inSource reads a column of one relation.
func inSource(s source, name string) ([]Column, bool, string) {
	switch {
	case s.opaque != "":
		return nil, false, quoted(name) + ": " + s.opaque
	case !s.derived:
		return []Column{{Table: s.table, Name: name}}, false, ""
	}
	it, ok := findOutput(s.outputs, name)
	if !ok {
		it, ok = findStar(s.outputs)
	}
	switch {
	case !ok:
		return nil, false, quoted(s.alias) + " returns no column " + quoted(name) + " that the SQL names"
	case it.unresolved != nil:
		return nil, false, "in " + quoted(s.alias) + ": " + it.unresolved.Reason
	}
	return it.output.Sources, it.output.Derived, ""
}

// findStar finds an unresolved `*` among a subquery's columns: a column it
// does not name may come from there.
func findStar(items []item) (item, bool) {
	for _, it := range items {
		if it.unresolved != nil && strings.HasSuffix(it.unresolved.Item, "*") {
			return it, true
		}
	}
	return item{}, false
}

// findOutput finds a subquery's column by name, case-insensitively.
func findOutput(items []item, name string) (item, bool) {
	for _, it := range items {
		if it.name != "" && strings.EqualFold(it.name, name) {
			return it, true
		}
	}
	return item{}, false
}
