// Package sqlextract reads SQL as the BI tools hand it over (custom SQL, native
// queries): the tables a query reads and the parts of a relation name. It knows
// no BI tool; every tool's lineage uses it.
package sqlextract

import (
	"sort"
	"strings"
	"unicode"
)

// tokKind is a SQL token's kind.
type tokKind int

const (
	tokIdent  tokKind = iota // bare word: keyword or identifier
	tokQuoted                // "quoted", `quoted` or [quoted] identifier
	tokString                // 'literal' or $$literal$$
	tokNumber
	tokPunct // one of . , ( ) ;
	tokOther // operators and anything else
)

type token struct {
	kind       tokKind
	text       string // identifiers without their quotes
	start, end int    // rune offsets in the SQL, for quoting it back
	afterDot   bool   // a name part after "." (a.order), never a keyword
}

// lexSQL splits SQL into tokens, dropping whitespace and -- and /* */ comments.
// It never fails: anything unterminated runs to the end of the input.
func lexSQL(sql string) []token {
	rs := []rune(sql)
	var out []token
	for i := 0; i < len(rs); {
		r, n, from := rs[i], len(out), i
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case r == '/' && i+1 < len(rs) && rs[i+1] == '*':
			i += 2
			for i < len(rs) && !(rs[i] == '*' && i+1 < len(rs) && rs[i+1] == '/') {
				i++
			}
			i += 2
		case r == '\'':
			j := i + 1
			for j < len(rs) {
				if rs[j] == '\'' {
					if j+1 < len(rs) && rs[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				if rs[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, token{kind: tokString, text: ""})
			i = j + 1
		case r == '$' && i+1 < len(rs) && (rs[i+1] == '$' || unicode.IsLetter(rs[i+1])):
			// Dollar quoting: $tag$ ... $tag$ (PostgreSQL, Snowflake).
			j := i + 1
			for j < len(rs) && rs[j] != '$' && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_') {
				j++
			}
			if j >= len(rs) || rs[j] != '$' {
				out = append(out, token{kind: tokOther, text: "$"})
				i++
				break
			}
			tag := string(rs[i : j+1])
			end := strings.Index(string(rs[j+1:]), tag)
			if end < 0 {
				i = len(rs)
			} else {
				i = j + 1 + len([]rune(string(rs[j+1:])[:end])) + len([]rune(tag))
			}
			out = append(out, token{kind: tokString, text: ""})
		case r == '"' || r == '`' || r == '[':
			end := map[rune]rune{'"': '"', '`': '`', '[': ']'}[r]
			var b strings.Builder
			j := i + 1
			for ; j < len(rs); j++ {
				if rs[j] == end {
					if end != ']' && j+1 < len(rs) && rs[j+1] == end {
						b.WriteRune(end)
						j++
						continue
					}
					break
				}
				b.WriteRune(rs[j])
			}
			out = append(out, token{kind: tokQuoted, text: b.String()})
			i = j + 1
		case unicode.IsLetter(r) || r == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '$') {
				j++
			}
			out = append(out, token{kind: tokIdent, text: string(rs[i:j])})
			i = j
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.' || unicode.IsLetter(rs[j])) {
				j++
			}
			out = append(out, token{kind: tokNumber, text: string(rs[i:j])})
			i = j
		case strings.ContainsRune(".,();", r):
			out = append(out, token{kind: tokPunct, text: string(r)})
			i++
		default:
			out = append(out, token{kind: tokOther, text: string(r)})
			i++
		}
		if len(out) > n {
			out[n].start, out[n].end = from, min(i, len(rs))
			out[n].afterDot = n > 0 && out[n-1].kind == tokPunct && out[n-1].text == "."
		}
	}
	return out
}

// clauseEnd are keywords that cannot be a table alias.
var clauseEnd = map[string]bool{
	"where": true, "group": true, "order": true, "having": true, "limit": true, "qualify": true, "window": true,
	"join": true, "left": true, "right": true, "inner": true, "outer": true, "full": true, "cross": true, "natural": true,
	"on": true, "using": true, "union": true, "except": true, "intersect": true, "minus": true, "lateral": true,
	"as": true, "with": true, "select": true, "from": true, "sample": true, "tablesample": true, "pivot": true,
	"unpivot": true, "at": true, "before": true, "changes": true, "match_recognize": true, "offset": true, "fetch": true,
	"for": true, "into": true, "values": true, "set": true, "returning": true,
}

// isWord is an identifier; an empty quoted one ("") names nothing.
func isWord(t token) bool { return t.kind == tokIdent || (t.kind == tokQuoted && t.text != "") }

// is says t is the keyword kw; a name part after a dot ("a.from") is none.
func is(t token, kw string) bool {
	return t.kind == tokIdent && !t.afterDot && strings.EqualFold(t.text, kw)
}

// ExtractTables returns the tables a query reads (the relations of its FROM
// clauses, joins and comma lists included), as lower-cased dotted names
// without quotes, in order of first appearance. CTE names, subqueries, table
// functions, comments and string contents are not tables.
func ExtractTables(sql string) []string {
	toks := lexSQL(sql)
	ctes := cteNames(toks)
	var rels []relRef
	for _, clause := range fromClauses(toks) {
		rels = append(rels, fromRelations(clause, 0)...)
	}
	sort.SliceStable(rels, func(a, b int) bool { return rels[a].at < rels[b].at })
	seen := map[string]bool{}
	var out []string
	for _, rel := range rels {
		full := strings.ToLower(strings.Join(rel.name, "."))
		if rel.name != nil && !rel.function && !(len(rel.name) == 1 && ctes[full]) && !seen[full] {
			seen[full] = true
			out = append(out, full)
		}
	}
	return out
}

// qualifiedName reads word(.word)* at i; nil if there is none.
func qualifiedName(toks []token, i int) ([]string, int) {
	if i >= len(toks) || !isWord(toks[i]) || (toks[i].kind == tokIdent && clauseEnd[strings.ToLower(toks[i].text)]) {
		return nil, i
	}
	parts := []string{toks[i].text}
	i++
	for i+1 < len(toks) && toks[i].kind == tokPunct && toks[i].text == "." && isWord(toks[i+1]) {
		parts = append(parts, toks[i+1].text)
		i += 2
	}
	return parts, i
}

// skipParens steps past the parenthesis group starting at i.
func skipParens(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		if toks[i].kind != tokPunct {
			continue
		}
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// cteNames collects the names defined by WITH clauses anywhere in the query.
func cteNames(toks []token) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < len(toks); i++ {
		if !is(toks[i], "with") {
			continue
		}
		j := i + 1
		if j < len(toks) && is(toks[j], "recursive") {
			j++
		}
		for j < len(toks) && isWord(toks[j]) {
			name := strings.ToLower(toks[j].text)
			j++
			if j < len(toks) && toks[j].kind == tokPunct && toks[j].text == "(" {
				j = skipParens(toks, j) // column list
			}
			if j >= len(toks) || !is(toks[j], "as") {
				break
			}
			j++
			for j < len(toks) && (is(toks[j], "materialized") || is(toks[j], "not")) {
				j++
			}
			if j >= len(toks) || toks[j].kind != tokPunct || toks[j].text != "(" {
				break
			}
			names[name] = true
			j = skipParens(toks, j)
			if j < len(toks) && toks[j].kind == tokPunct && toks[j].text == "," {
				j++
				continue
			}
			break
		}
	}
	return names
}
