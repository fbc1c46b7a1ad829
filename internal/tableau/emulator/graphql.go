package emulator

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

//go:embed schema/tableau-metadata.graphql
var schemaSDL string

var (
	schemaOnce sync.Once
	schema     *ast.Schema
	schemaErr  error
)

// Schema is Tableau's Metadata API schema, parsed once.
func Schema() (*ast.Schema, error) {
	schemaOnce.Do(func() {
		s, err := gqlparser.LoadSchema(&ast.Source{Name: "tableau-metadata.graphql", Input: schemaSDL})
		if err != nil {
			schemaErr = err
			return
		}
		schema = s
	})
	return schema, schemaErr
}

// SchemaSDL is the embedded schema text.
func SchemaSDL() string { return schemaSDL }

// serveGraphQL parses and validates the query against Tableau's schema with
// gqlparser, then executes it over the in-memory site.
func (e *Emulator) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.GraphQL++
	e.mu.Unlock()
	if r.Method != http.MethodPost {
		e.answerError(w, r, http.StatusMethodNotAllowed, "405000", "Method Not Allowed", "Use POST.")
		return
	}
	if !e.session(w, r) {
		return
	}
	var req struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{"message": "Invalid JSON payload: " + err.Error()}}})
		return
	}
	s, err := Schema()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []any{map[string]any{"message": err.Error()}}})
		return
	}
	doc, errs := gqlparser.LoadQuery(s, req.Query)
	if errs != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": validationErrors(errs)})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "Unknown operation " + req.OperationName}}})
		return
	}
	if op.Operation != ast.Query {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "Only queries are supported by the Metadata API"}}})
		return
	}
	vars, verr := validator.VariableValues(s, op, req.Variables)
	if verr != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "Validation error: " + verr.Error(), "extensions": map[string]any{"classification": "ValidationError"}}}})
		return
	}
	writeJSON(w, http.StatusOK, e.execute(s, op, vars))
}

// execute runs a validated query over the site: its data, with a warning when
// it passed the node limit, as Tableau answers.
func (e *Emulator) execute(s *ast.Schema, op *ast.OperationDefinition, vars map[string]any) answerObject {
	// Queries only read the site: several run at once, as on Tableau.
	e.mu.RLock()
	x := &executor{schema: s, site: e.site, vars: vars, limit: e.NodeLimit, maxPage: e.MaxPageSize}
	data := x.object(queryRoot{}, op.SelectionSet)
	e.mu.RUnlock()
	body := answerObject{{"data", data}}
	var out []any
	if x.exceeded {
		out = append(out, map[string]any{
			"message":    fmt.Sprintf("Showing partial results. The request exceeded the '%d' node limit. Use pagination, additional filtering, or both in the query to adjust results.", x.limit),
			"extensions": map[string]any{"severity": "WARNING", "code": "NODE_LIMIT_EXCEEDED", "properties": map[string]any{"nodeLimit": x.limit}},
		})
	}
	out = append(out, x.warnings...)
	if len(out) > 0 {
		body.set("errors", out)
	}
	return body
}

func validationErrors(errs gqlerror.List) []any {
	out := make([]any, 0, len(errs))
	for _, e := range errs {
		out = append(out, map[string]any{
			"message":    "Validation error: " + e.Message,
			"locations":  e.Locations,
			"extensions": map[string]any{"classification": "ValidationError"},
		})
	}
	return out
}

// object is a GraphQL object the executor can resolve fields of.
type object interface {
	typeName() string
	field(x *executor, name string, args map[string]any) any
}

type executor struct {
	schema   *ast.Schema
	site     *site
	vars     map[string]any
	limit    int
	maxPage  int
	nodes    int
	exceeded bool
	warnings []any
}

// value resolves v (a scalar, an object or a list of objects) under a selection.
func (x *executor) value(v any, sel ast.SelectionSet) any {
	switch t := v.(type) {
	case object:
		if x.nodes++; x.limit > 0 && x.nodes > x.limit {
			x.exceeded = true
			return nil
		}
		return x.object(t, sel)
	case []object:
		out := make([]any, 0, len(t))
		for _, o := range t {
			if o == nil {
				out = append(out, nil) // Tableau returns null items for content the user may not see
				continue
			}
			item := x.value(o, sel)
			if x.exceeded {
				break // partial results: the list stops where the limit was hit
			}
			out = append(out, item)
		}
		return out
	default:
		return v
	}
}

func (x *executor) object(o object, sel ast.SelectionSet) answerObject {
	out := make(answerObject, 0, len(sel))
	x.collect(o, sel, &out)
	return out
}

func (x *executor) collect(o object, sel ast.SelectionSet, out *answerObject) {
	for _, s := range sel {
		switch f := s.(type) {
		case *ast.Field:
			if f.Name == "__typename" {
				out.set(f.Alias, o.typeName())
				continue
			}
			out.set(f.Alias, x.value(o.field(x, f.Name, f.ArgumentMap(x.vars)), f.SelectionSet))
		case *ast.InlineFragment:
			if x.applies(f.TypeCondition, o.typeName()) {
				x.collect(o, f.SelectionSet, out)
			}
		case *ast.FragmentSpread:
			if f.Definition != nil && x.applies(f.Definition.TypeCondition, o.typeName()) {
				x.collect(o, f.Definition.SelectionSet, out)
			}
		}
	}
}

func (x *executor) applies(cond, typ string) bool {
	if cond == "" || cond == typ {
		return true
	}
	def := x.schema.Types[cond]
	if def == nil {
		return false
	}
	for _, p := range x.schema.GetPossibleTypes(def) {
		if p.Name == typ {
			return true
		}
	}
	return false
}

// ---- connections ----

type cursor struct {
	Key string `json:"k"`
	ID  string `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

// conn pages items already filtered; key gives the sort key of the orderBy field.
func (x *executor) conn(items []object, ids []string, args map[string]any, key func(i int, field string) string) object {
	field, desc := "ID", false
	if ob, ok := args["orderBy"].(map[string]any); ok {
		if f, ok := ob["field"].(string); ok {
			field = f
		}
		desc = ob["direction"] == "DESC"
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	less := func(a, b int) bool {
		ka, kb := key(a, field), key(b, field)
		if ka != kb {
			return (ka < kb) != desc
		}
		return (ids[a] < ids[b]) != desc
	}
	sort.SliceStable(idx, func(i, j int) bool { return less(idx[i], idx[j]) })
	start := 0
	if after, ok := args["after"].(string); ok && after != "" {
		raw, err := base64.StdEncoding.DecodeString(after)
		var c cursor
		if err == nil && json.Unmarshal(raw, &c) == nil {
			start = sort.Search(len(idx), func(i int) bool {
				k := key(idx[i], field)
				if k != c.Key {
					return (k > c.Key) != desc
				}
				return (ids[idx[i]] > c.ID) != desc
			})
		}
	}
	if off, ok := asInt(args["offset"]); ok && off > 0 && args["after"] == nil {
		start = min(off, len(idx))
	}
	first := len(idx)
	if f, ok := asInt(args["first"]); ok && f >= 0 {
		first = f
	}
	if x.maxPage > 0 && first > x.maxPage {
		x.warnings = append(x.warnings, map[string]any{
			"message":    fmt.Sprintf("The requested page size %d exceeds the maximum of %d; %d were returned.", first, x.maxPage, x.maxPage),
			"extensions": map[string]any{"severity": "WARNING", "code": "MAX_PAGE_SIZE_EXCEEDED"},
		})
		first = x.maxPage
	}
	end := min(len(idx), start+first)
	var nodes []object
	for _, i := range idx[start:end] {
		nodes = append(nodes, items[i])
	}
	c := &connObj{nodes: nodes, total: len(items), hasNext: end < len(idx)}
	if end > start {
		last := idx[end-1]
		c.endCursor = encodeCursor(cursor{Key: key(last, field), ID: ids[last]})
	}
	return c
}

// asInt reads an Int argument, however the JSON variables were decoded.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

type connObj struct {
	nodes     []object
	total     int
	hasNext   bool
	endCursor string
}

func (c *connObj) typeName() string { return "Connection" }
func (c *connObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "nodes":
		if c.nodes == nil {
			return []object{}
		}
		return c.nodes
	case "totalCount":
		return c.total
	case "pageInfo":
		return pageInfo{c.hasNext, c.endCursor}
	}
	return nil
}

type pageInfo struct {
	hasNext bool
	end     string
}

func (p pageInfo) typeName() string { return "PageInfo" }
func (p pageInfo) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "hasNextPage":
		return p.hasNext
	case "endCursor":
		if p.end == "" {
			return nil
		}
		return p.end
	}
	return nil
}

// ---- the site's types ----

type queryRoot struct{}

func (queryRoot) typeName() string { return "Query" }
func (queryRoot) field(x *executor, name string, args map[string]any) any {
	if v, ok := x.lineageRoot(name, args); ok {
		return v
	}
	switch name {
	case "workbooks", "workbooksConnection":
		items, ids := x.workbooks(args)
		if name == "workbooks" {
			return items
		}
		return x.conn(items, ids, args, func(i int, f string) string { return items[i].(*wbObj).sortKey(f) })
	case "customSQLTables", "customSQLTablesConnection":
		l := listByID(args)
		for _, s := range x.site.sqls {
			l.add(s.ID, &sqlObj{s})
		}
		return x.answer(name, l, args)
	}
	return nil
}

// workbooks applies Workbook_Filter.
func (x *executor) workbooks(args map[string]any) ([]object, []string) {
	filter, _ := args["filter"].(map[string]any)
	match := func(w *workbook) bool {
		checks := map[string]string{"luid": w.ID, "name": w.Name, "projectLuid": w.ProjectID, "projectName": x.site.projectName(w.ProjectID), "vizportalUrlId": w.vizportalID}
		for k, v := range checks {
			if want, ok := filter[k].(string); ok && want != v {
				return false
			}
			if within, ok := filter[k+"Within"].([]any); ok {
				found := false
				for _, s := range within {
					if s == v {
						found = true
					}
				}
				if !found {
					return false
				}
			}
		}
		return true
	}
	var items []object
	var ids []string
	for _, w := range x.site.workbooks {
		if filter == nil || match(w) {
			items = append(items, &wbObj{w})
			ids = append(ids, w.ID)
		}
	}
	return items, ids
}

type wbObj struct{ w *workbook }

func (o *wbObj) typeName() string { return "Workbook" }
func (o *wbObj) sortKey(field string) string {
	switch field {
	case "NAME":
		return o.w.Name
	case "LUID", "ID":
		return o.w.ID
	case "CONTAINER_NAME":
		return o.w.ProjectID
	}
	return o.w.ID
}
func (o *wbObj) field(x *executor, name string, _ map[string]any) any {
	w := o.w
	switch name {
	case "id", "luid":
		return w.ID
	case "name":
		return w.Name
	case "description":
		return w.Description
	case "vizportalUrlId":
		return w.vizportalID
	case "uri":
		return "sites/1/workbooks/" + w.vizportalID
	case "projectLuid":
		return w.ProjectID
	case "projectName", "containerName":
		return x.site.projectName(w.ProjectID)
	case "containerType":
		return "Project"
	case "createdAt":
		return w.CreatedAt
	case "updatedAt":
		return w.UpdatedAt
	case "owner":
		if u := x.site.users[w.OwnerID]; u != nil {
			return userObj{u}
		}
		return nil
	case "tags":
		out := []object{}
		for _, t := range w.Tags {
			out = append(out, tagObj(t))
		}
		return out
	}
	return o.lineage(x, name)
}

// lineage answers a workbook's upstream fields: tables (null where the user
// may not see one), data sources and databases.
func (o *wbObj) lineage(x *executor, name string) any {
	w := o.w
	out := []object{}
	switch name {
	case "upstreamTables":
		for i := range w.UpstreamTables {
			if w.UpstreamTables[i].Hidden {
				out = append(out, nil)
				continue
			}
			out = append(out, tableObj{&w.UpstreamTables[i]})
		}
	case "upstreamDatasources":
		for _, id := range w.UpstreamDatasources {
			if d := x.site.datasources[id]; d != nil {
				out = append(out, datasourceObj{d})
			}
		}
	case "embeddedDatasources": // one per workbook: its own connections
		out = append(out, embeddedObj{w})
	case "upstreamDatabases":
		seen := map[string]bool{}
		for _, t := range w.UpstreamTables {
			if !seen[t.Database] {
				seen[t.Database] = true
				out = append(out, dbObj{t.Database, t.ConnectionType})
			}
		}
	default:
		return nil
	}
	return out
}

type datasourceObj struct{ d *FixtureDatasource }

func (o datasourceObj) typeName() string { return "PublishedDatasource" }
func (o datasourceObj) field(x *executor, name string, _ map[string]any) any {
	switch name {
	case "id", "luid":
		return o.d.ID
	case "name":
		return o.d.Name
	case "hasExtracts":
		return o.d.HasExtracts
	case "projectName":
		return x.site.projectName(o.d.ProjectID)
	}
	return nil
}

type embeddedObj struct{ w *workbook }

func (o embeddedObj) typeName() string { return "EmbeddedDatasource" }
func (o embeddedObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "id":
		return "embedded-" + o.w.ID
	case "name":
		return o.w.Name
	case "hasExtracts":
		return o.w.EmbeddedExtracts
	}
	return nil
}

type userObj struct{ u *User }

func (o userObj) typeName() string { return "TableauUser" }
func (o userObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "id", "luid":
		return o.u.ID
	case "name":
		return o.u.Name
	case "username":
		return o.u.Username
	case "email":
		return o.u.Email
	}
	return nil
}

type tagObj string

func (t tagObj) typeName() string { return "Tag" }
func (t tagObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "id", "name":
		return string(t)
	}
	return nil
}

type tableObj struct{ t *FixtureTable }

func (o tableObj) typeName() string { return "DatabaseTable" }
func (o tableObj) field(_ *executor, name string, _ map[string]any) any {
	t := o.t
	switch name {
	case "id", "luid":
		return t.ID
	case "name":
		return t.Name
	case "schema":
		return t.Schema
	case "fullName":
		return tableFullName(*t)
	case "connectionType":
		return t.ConnectionType
	case "isEmbedded":
		return false
	case "database":
		return dbObj{t.Database, t.ConnectionType}
	}
	return nil
}

type dbObj struct{ name, connType string }

func (o dbObj) typeName() string { return "DatabaseServer" }
func (o dbObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "id", "luid":
		return "db-" + strings.ToLower(o.name)
	case "name":
		return o.name
	case "connectionType":
		return o.connType
	}
	return nil
}

type sqlObj struct{ s *customSQL }

func (o *sqlObj) typeName() string { return "CustomSQLTable" }
func (o *sqlObj) field(_ *executor, name string, _ map[string]any) any {
	s := o.s
	switch name {
	case "id":
		return s.ID
	case "name":
		return "Custom SQL Query"
	case "query":
		return s.Query
	case "connectionType":
		return s.ConnectionType
	case "isEmbedded":
		return true
	case "database":
		return dbObj{s.Database, s.ConnectionType}
	case "downstreamWorkbooks":
		out := []object{}
		for _, w := range s.readers {
			out = append(out, &wbObj{w})
		}
		return out
	}
	return nil
}
