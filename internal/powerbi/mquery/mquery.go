// Package mquery finds the warehouse tables a Power BI dataset table reads,
// from its Power Query M expression: the connector function, the navigation
// steps after it, native SQL queries, let bindings, and references to the
// dataset's shared expressions and parameters; and which warehouse columns
// the table's columns are (columns.go). What it cannot follow it reports with
// the reason; it never guesses.
package mquery

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Table is a warehouse table, as the expression names it.
type Table struct {
	Database, Schema, Name string
	Connector              string // the M function, e.g. Snowflake.Databases
}

// FullName is database.schema.name.
func (t Table) FullName() string { return t.Database + "." + t.Schema + "." + t.Name }

// NativeQuery is SQL the expression sends to the warehouse as it is.
type NativeQuery struct {
	Query     string
	Connector string
}

// Result is what an expression reads.
type Result struct {
	Tables        []Table
	NativeQueries []NativeQuery
	// Problems say what could not be followed, so a table may be missing.
	Problems []string
	// Columns map the dataset table's columns to warehouse columns.
	Columns ColumnLineage
}

// Env is the dataset around an expression: its shared expressions (including
// parameters, which are expressions with meta [IsParameterQuery=true]) by name.
type Env struct {
	Expressions map[string]string
	// Parameters are values given directly, as tests and tools pass them.
	Parameters map[string]string
}

// Analyze reads an M expression. It never panics; a document it cannot parse
// comes back with the reason in Problems.
func Analyze(expr string, env Env) Result {
	ev := &evaluator{env: env, shared: map[string]*value{}, busy: map[string]bool{}}
	v := ev.document(expr)
	res := Result{Problems: append([]string(nil), v.problems...)}
	if v.cur != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("the navigation of %s stops at %q: no table was selected", v.cur.connector, strings.Join(v.cur.levels, ".")))
	}
	seen := map[string]bool{}
	for _, t := range v.tables {
		if k := strings.ToLower(t.FullName()); !seen[k] {
			seen[k] = true
			res.Tables = append(res.Tables, t)
		}
	}
	res.NativeQueries = ev.queries
	res.Columns = ColumnLineage{cols: v.cols}
	if len(res.Tables) == 0 && len(res.Problems) == 0 && !ev.connected {
		res.Problems = append(res.Problems, "no warehouse connector (such as Sql.Database or Snowflake.Databases) was found")
	}
	sort.Strings(res.Problems)
	return res
}

// cursor is a connector's position while navigation walks down to a table.
type cursor struct {
	connector string
	levels    []string // database, then schema, then table
	bad       bool     // a level could not be resolved: the table is not guessed
}

// value is what evaluating a node yields, for lineage.
type value struct {
	tables   []Table
	cur      *cursor
	text     *string
	record   map[string]*value
	list     []*value // a list's items, as written
	cols     *columns // a table's columns, when they can be followed
	problems []string
}

// merge adds what o reads. Each table and problem is kept once, so that steps
// used many times (a = {b, b}, b = {c, c}, …) cannot grow a value exponentially.
func (v *value) merge(o *value) {
	if o == nil {
		return
	}
	for _, t := range o.tables {
		if !slices.Contains(v.tables, t) {
			v.tables = append(v.tables, t)
		}
	}
	v.problem(o.problems...)
}

// problem records reasons, each once.
func (v *value) problem(reasons ...string) {
	for _, p := range reasons {
		if !slices.Contains(v.problems, p) {
			v.problems = append(v.problems, p)
		}
	}
}

type evaluator struct {
	env       Env
	shared    map[string]*value // shared expressions evaluated so far
	busy      map[string]bool   // shared expressions being evaluated (cycles)
	queries   []NativeQuery
	connected bool // some connector was called
	depth     int
}

func (ev *evaluator) document(src string) *value {
	n, err := parse(src)
	if err != nil {
		return &value{problems: []string{"the M expression could not be parsed: " + err.Error()}}
	}
	return ev.eval(n, nil)
}

// scope is a let's bindings, evaluated on first use.
type scope struct {
	parent *scope
	nodes  map[string]node
	vals   map[string]*value
	busy   map[string]bool
}

// maxEvalDepth bounds how deeply steps may refer to steps.
const maxEvalDepth = 2000

func (ev *evaluator) eval(n node, sc *scope) *value {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > maxEvalDepth {
		return &value{problems: []string{"the query's steps refer to each other too deeply to follow"}}
	}
	switch n := n.(type) {
	case letNode:
		inner := &scope{parent: sc, nodes: map[string]node{}, vals: map[string]*value{}, busy: map[string]bool{}}
		for i, name := range n.names {
			inner.nodes[name] = n.exprs[i]
		}
		return ev.eval(n.body, inner)
	case identNode:
		return ev.lookup(n.name, sc)
	case stringNode:
		s := n.s
		return &value{text: &s}
	case callNode:
		return ev.call(n, sc)
	case itemNode:
		return ev.navigate(ev.eval(n.target, sc), n.sel, sc)
	case fieldNode:
		return ev.field(ev.eval(n.target, sc), n.name)
	case recordNode:
		v := &value{record: map[string]*value{}}
		for i, name := range n.names {
			f := ev.eval(n.vals[i], sc)
			v.record[name] = f
			v.merge(f)
		}
		return v
	case listNode:
		v := ev.union(n.items, sc)
		v.cols = nil
		return v
	case groupNode:
		return ev.union(n.parts, sc)
	}
	return &value{}
}

// union is the tables all parts read: what flows through Table.* functions.
func (ev *evaluator) union(parts []node, sc *scope) *value {
	v := &value{}
	for _, p := range parts {
		pv := ev.eval(p, sc)
		v.merge(pv)
		v.list = append(v.list, pv)
		if len(parts) == 1 {
			v.cols = pv.cols // (step): the same table
			if pv.cur != nil && !pv.cur.bad {
				v.cur = pv.cur
			}
		}
	}
	return v
}

// lookup resolves a name: a let binding, then a shared expression, then a parameter.
func (ev *evaluator) lookup(name string, sc *scope) *value {
	for s := sc; s != nil; s = s.parent {
		n, ok := s.nodes[name]
		if !ok {
			// Power BI's own exports hold steps referred to in another case
			// (#"ADDed …" used as #"Added …"); the step is still unambiguous.
			folded, found := s.foldedName(name)
			if !found {
				continue
			}
			name, n = folded, s.nodes[folded]
		}
		if v, done := s.vals[name]; done {
			return v
		}
		if s.busy[name] {
			return &value{problems: []string{fmt.Sprintf("%s refers to itself", name)}}
		}
		s.busy[name] = true
		v := ev.eval(n, s)
		s.vals[name] = v
		return v
	}
	if src, ok := ev.env.Expressions[name]; ok {
		if v, done := ev.shared[name]; done {
			return v
		}
		if ev.busy[name] {
			return &value{problems: []string{fmt.Sprintf("the shared expression %s refers to itself", name)}}
		}
		ev.busy[name] = true
		v := ev.document(src)
		ev.shared[name] = v
		return v
	}
	if p, ok := ev.env.Parameters[name]; ok {
		return &value{text: &p}
	}
	if isLibraryName(name) {
		return &value{}
	}
	return &value{problems: []string{fmt.Sprintf("%s is neither a step of this query nor a parameter or shared expression of the dataset", name)}}
}

// foldedName is the one binding whose name equals name ignoring case.
func (s *scope) foldedName(name string) (string, bool) {
	found := ""
	for k := range s.nodes {
		if strings.EqualFold(k, name) {
			if found != "" {
				return "", false
			}
			found = k
		}
	}
	return found, found != ""
}
