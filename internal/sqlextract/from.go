package sqlextract

import "strings"

// relRef is one relation of a FROM clause as written. ExtractTables and
// ExtractColumns read FROM clauses through it, so that they agree.
type relRef struct {
	name     []string // a table or CTE, or a table function's name
	function bool     // name is a table function's: TABLE(…), FLATTEN(…)
	query    []token  // a subquery, inside its parentheses
	alias    string   // lower-cased; "" when none is written
	cols     []string // the alias's column list: AS s (a, b)
	at       int      // where it is written, in runes
}

// fromRelations reads the relations of a FROM clause (what follows FROM,
// up to the clause's end), joined by commas or JOIN, through parenthesized
// joins. It stops at anything that is not a relation.
func fromRelations(toks []token, depth int) []relRef {
	var out []relRef
	for i := 0; i < len(toks) && depth <= maxDepth; {
		for i < len(toks) && (is(toks[i], "lateral") || is(toks[i], "only")) {
			i++
		}
		rels, next, ok := relationAt(toks, i, depth)
		out = append(out, rels...)
		if !ok {
			break
		}
		// Skip the join condition up to the next relation.
		i = next + topIndex(toks[next:], func(t token) bool { return isPunct(t, ",") || is(t, "join") })
		if i < len(toks) {
			i++
		}
	}
	return out
}

// relationAt reads the relation at i, with its alias; ok is false when
// there is none.
func relationAt(toks []token, i int, depth int) (rels []relRef, next int, ok bool) {
	if i >= len(toks) {
		return nil, i, false
	}
	if isPunct(toks[i], "(") {
		inner, end := inParens(toks, i)
		if !isQuery(inner) {
			return fromRelations(inner, depth+1), end, true // a parenthesized join
		}
		ref, next := relRef{query: inner}.aliasAt(toks, end)
		return []relRef{ref}, next, true
	}
	name, next := qualifiedName(toks, i)
	if name == nil {
		return nil, i, false
	}
	ref := relRef{name: name, at: toks[i].start}
	if next < len(toks) && isPunct(toks[next], "(") {
		ref.function, next = true, skipParens(toks, next)
	}
	ref, next = ref.aliasAt(toks, next)
	return []relRef{ref}, next, true
}

// isQuery says parentheses hold a query, (SELECT …), not a join.
func isQuery(inner []token) bool {
	for _, t := range inner {
		if !isPunct(t, "(") {
			return is(t, "select") || is(t, "with")
		}
	}
	return false
}

// aliasAt reads "[AS] alias [(columns)]" at i, if written.
func (ref relRef) aliasAt(toks []token, i int) (relRef, int) {
	j := i
	if j < len(toks) && is(toks[j], "as") {
		j++
	}
	if j >= len(toks) || !isWord(toks[j]) || clauseWord(toks[j], clauseEnd) || clauseWord(toks[j], clauseAfterFrom) {
		return ref, i
	}
	ref.alias = strings.ToLower(toks[j].text)
	j++
	if j < len(toks) && isPunct(toks[j], "(") {
		var cols []token
		cols, j = inParens(toks, j)
		ref.cols = wordList(cols)
	}
	return ref, j
}

// fromClauseEnd is where a FROM clause ends: at the next clause, set
// operator or statement, or at the parenthesis that closes around it.
func fromClauseEnd(toks []token) int {
	depth := 0
	for i, t := range toks {
		if depth == 0 && (clauseWord(t, clauseAfterFrom) || clauseWord(t, setOps) || isPunct(t, ";")) {
			return i
		}
		if depth += parenStep(t); depth < 0 {
			return i
		}
	}
	return len(toks)
}

// fromInFunctions are functions whose arguments say FROM without a FROM
// clause: EXTRACT(YEAR FROM d), TRIM(x FROM s), SUBSTRING(s FROM 2).
var fromInFunctions = wordSet(`extract trim substring substr position overlay`)

// fromClauses are the FROM clauses of a whole statement, at any depth.
func fromClauses(toks []token) [][]token {
	var out [][]token
	var openers []int // the open parentheses around i
	for i, t := range toks {
		switch {
		case isPunct(t, "("):
			openers = append(openers, i)
		case isPunct(t, ")") && len(openers) > 0:
			openers = openers[:len(openers)-1]
		case is(t, "from") && !inFunctionArgs(toks, openers):
			clause := toks[i+1:]
			out = append(out, clause[:fromClauseEnd(clause)])
		}
	}
	return out
}

// inFunctionArgs says the innermost open parenthesis is the argument list
// of a function whose arguments say FROM.
func inFunctionArgs(toks []token, openers []int) bool {
	if len(openers) == 0 {
		return false
	}
	o := openers[len(openers)-1]
	return o > 0 && toks[o-1].kind == tokIdent && fromInFunctions[strings.ToLower(toks[o-1].text)]
}
