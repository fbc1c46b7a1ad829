package sqlextract

import "strings"

// source is one relation a SELECT reads: a warehouse table, or a subquery
// or CTE whose columns are known, or something opaque.
type source struct {
	alias   string // lower-cased: the alias, else the table's last name part or the CTE's name
	table   string // the warehouse table, for a table
	outputs []item // the columns of a subquery or CTE
	derived bool   // a subquery or CTE
	opaque  string // why its columns are unknown (a table function)
}

// clauseAfterFrom ends a FROM clause.
var clauseAfterFrom = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true, "qualify": true,
	"window": true, "fetch": true, "offset": true, "connect": true, "start": true,
}

// branch resolves one SELECT: its select list against its FROM clause.
func (r *resolver) branch(toks []token, sc *scope, depth int) []item {
	if len(toks) > 0 && isPunct(toks[0], "(") {
		if inner, end := inParens(toks, 0); end == len(toks) {
			return r.query(inner, sc, depth+1)
		}
	}
	if len(toks) == 0 || !is(toks[0], "select") {
		return nil
	}
	list, from := selectList(toks[1:])
	sources := r.fromClause(from, sc, depth)
	var items []item
	for _, it := range splitTop(list, ",") {
		items = append(items, r.selectItem(it, sources)...)
	}
	return items
}

// selectList splits what follows SELECT into its list and its FROM clause
// (without the FROM keyword and without the clauses after it).
func selectList(toks []token) (list, from []token) {
	i := 0
	for i < len(toks) && (is(toks[i], "distinct") || is(toks[i], "all") || is(toks[i], "top")) {
		if is(toks[i], "top") && i+1 < len(toks) {
			i++ // TOP n
		}
		if is(toks[i], "distinct") && i+1 < len(toks) && is(toks[i+1], "on") && i+2 < len(toks) {
			i = skipParens(toks, i+2) - 1
		}
		i++
	}
	toks = toks[i:]
	end := topIndex(toks, func(t token) bool { return is(t, "from") || clauseWord(t, clauseAfterFrom) })
	list, from = toks[:end], toks[end:]
	if len(from) == 0 || !is(from[0], "from") {
		return list, nil
	}
	from = from[1:]
	return list, from[:fromClauseEnd(from)]
}

// clauseWord is a keyword of words, written as a keyword: a name part after
// a dot ("a.order") is none.
func clauseWord(t token, words map[string]bool) bool {
	return t.kind == tokIdent && !t.afterDot && words[strings.ToLower(t.text)]
}

// topIndex is the index of the first token outside parentheses that stop
// accepts, or of a parenthesis closing around toks, or len(toks).
func topIndex(toks []token, stop func(token) bool) int {
	depth := 0
	for i, t := range toks {
		if depth == 0 && stop(t) {
			return i
		}
		if depth += parenStep(t); depth < 0 {
			return i
		}
	}
	return len(toks)
}

// splitTop splits toks at the punctuation sep outside parentheses.
func splitTop(toks []token, sep string) [][]token {
	var out [][]token
	for len(toks) > 0 {
		i := topIndex(toks, func(t token) bool { return isPunct(t, sep) })
		out = append(out, toks[:i])
		if i == len(toks) {
			break
		}
		toks = toks[i+1:]
	}
	return out
}

// fromClause reads the relations of a FROM clause as sources.
func (r *resolver) fromClause(toks []token, sc *scope, depth int) []source {
	var out []source
	for _, rel := range fromRelations(toks, depth) {
		out = append(out, r.sourceOf(rel, sc, depth))
	}
	return out
}

// sourceOf resolves one relation: a subquery's or CTE's columns, a table,
// or a table function, whose columns are unknown.
func (r *resolver) sourceOf(rel relRef, sc *scope, depth int) source {
	var src source
	switch {
	case rel.query != nil:
		src = source{derived: true, outputs: r.query(rel.query, sc, depth+1)}
	case rel.function:
		src = source{opaque: "it reads the table function " + quoted(strings.Join(rel.name, ".")) + ", whose columns the SQL does not name"}
	default:
		full := strings.ToLower(strings.Join(rel.name, "."))
		src = source{table: full, alias: strings.ToLower(rel.name[len(rel.name)-1])}
		if def, body, ok := sc.cte(full); ok && len(rel.name) == 1 {
			src = r.cteSource(def, full, body, depth)
		}
	}
	if rel.alias != "" {
		src.alias = rel.alias
	}
	if src.derived {
		src.outputs = renameItems(src.outputs, rel.cols)
	}
	return src
}

// cteSource resolves a CTE once per scope; one that reads itself is opaque.
func (r *resolver) cteSource(def *scope, name string, body []token, depth int) source {
	if def.busy[name] {
		return source{alias: name, opaque: "it reads the recursive CTE " + quoted(name)}
	}
	items, ok := def.memo[name]
	if !ok {
		def.busy[name] = true
		items = renameItems(r.query(body, def, depth+1), def.cols[name])
		def.busy[name] = false
		def.memo[name] = items
	}
	return source{alias: name, derived: true, outputs: items}
}

// renameItems gives a subquery's or CTE's columns the names of its column
// list, by position.
func renameItems(items []item, names []string) []item {
	if len(names) == 0 {
		return items
	}
	out := make([]item, len(items))
	for i, it := range items {
		out[i] = it
		if i < len(names) {
			out[i].name = names[i]
			if it.unresolved == nil {
				out[i].output.Name = names[i]
			}
		}
	}
	return out
}
