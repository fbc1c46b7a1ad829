package emulator

// Column lineage: sheets, the data source fields they use, and the columns
// those fields read, as the Metadata API's Sheet, Field and Column types.

import "strings"

// fieldsPageCap is the most fieldsConnection returns in a page, whatever
// "first" asks: Tableau says so only through pageInfo.
const fieldsPageCap = 1000

// lineageRoot answers the root fields of column lineage.
func (x *executor) lineageRoot(name string, args map[string]any) (any, bool) {
	l := listByID(args)
	switch name {
	case "sheets", "sheetsConnection":
		for _, sh := range x.site.sheets {
			l.add(sh.ID, sheetObj{sh})
		}
	case "databaseTables", "databaseTablesConnection":
		for id, t := range x.site.tables {
			if _, ok := t.(tableObj); ok {
				l.add(id, t)
			}
		}
	case "fields", "fieldsConnection":
		x.fields(l)
		if f, ok := asInt(args["first"]); !ok || f > fieldsPageCap {
			args["first"] = fieldsPageCap
		}
	default:
		return nil, false
	}
	return x.answer(name, l, args), true
}

// byID lists objects with their IDs: those a filter's id and idWithin keep.
type byID struct {
	items []object
	ids   []string
	want  map[string]bool // nil without a filter
}

// listByID reads a filter's id and idWithin.
func listByID(args map[string]any) *byID {
	filter, _ := args["filter"].(map[string]any)
	within, ok := filter["idWithin"].([]any)
	if id, has := filter["id"].(string); has {
		within, ok = append(within, id), true
	}
	if !ok {
		return &byID{}
	}
	want := make(map[string]bool, len(within))
	for _, v := range within {
		if id, isString := v.(string); isString {
			want[id] = true
		}
	}
	return &byID{want: want}
}

func (l *byID) add(id string, o object) {
	if l.want == nil || l.want[id] {
		l.items, l.ids = append(l.items, o), append(l.ids, id)
	}
}

// answer is the list, or for a …Connection field a page of it by ID.
func (x *executor) answer(name string, l *byID, args map[string]any) any {
	if !strings.HasSuffix(name, "Connection") {
		return l.items
	}
	return x.conn(l.items, l.ids, args, func(i int, _ string) string { return l.ids[i] })
}

// fields lists the fields a filter names by looking them up, rather than
// scanning every field of a large site; every field without a filter.
func (x *executor) fields(l *byID) {
	if l.want == nil {
		for _, f := range x.site.fields {
			l.add(f.ID, fieldObj{f})
		}
		return
	}
	for id := range l.want {
		if f := x.site.fieldByID[id]; f != nil {
			l.add(id, fieldObj{f})
		}
	}
}

type sheetObj struct{ s *sheet }

func (o sheetObj) typeName() string { return "Sheet" }
func (o sheetObj) field(x *executor, name string, _ map[string]any) any {
	switch name {
	case "id", "luid":
		return o.s.ID
	case "name":
		return o.s.Name
	case "workbook":
		return &wbObj{o.s.w}
	case "datasourceFields", "sheetFieldInstances":
		return x.fieldObjects(o.s.Fields)
	case "upstreamColumns":
		if o.s.ColumnsMissing {
			return []object{}
		}
		return o.s.columns
	}
	return nil
}

// upstreamColumns are the columns fields reach through the fields they are
// computed from and the published fields they stand for, each once, as
// Tableau's lineage gives a sheet's.
func (s *site) upstreamColumns(fields []string) []object {
	out := []object{}
	seenField, seenColumn := map[string]bool{}, map[FixtureColumn]bool{}
	var walk func(id string)
	walk = func(id string) {
		f := s.fieldByID[id]
		if f == nil || seenField[id] {
			return
		}
		seenField[id] = true
		for _, c := range f.Columns {
			if !seenColumn[c] {
				seenColumn[c] = true
				out = append(out, columnObj{c, s.tables[c.TableID]})
			}
		}
		for _, up := range f.UpstreamFields {
			walk(up)
		}
		walk(f.RemoteField)
	}
	for _, id := range fields {
		walk(id)
	}
	return out
}

// fieldObjects are the fields with these IDs.
func (x *executor) fieldObjects(ids []string) []object {
	out := []object{}
	for _, id := range ids {
		if f := x.site.fieldByID[id]; f != nil {
			out = append(out, fieldObj{f})
		}
	}
	return out
}

type fieldObj struct{ f *FixtureField }

func (o fieldObj) typeName() string { return o.f.Type }
func (o fieldObj) field(x *executor, name string, _ map[string]any) any {
	f := o.f
	switch name {
	case "id":
		return f.ID
	case "name", "fullyQualifiedName":
		return f.Name
	case "formula":
		return f.Formula
	case "isHidden":
		return false
	case "datasource":
		if d := x.site.datasources[f.DatasourceID]; d != nil {
			return datasourceObj{d}
		}
		if w := x.site.byID[f.DatasourceID]; w != nil {
			return embeddedObj{w}
		}
		return nil
	case "upstreamFields", "fields":
		return x.fieldObjects(f.UpstreamFields)
	case "remoteField":
		if r := x.site.fieldByID[f.RemoteField]; r != nil && f.Type == "DatasourceField" {
			return fieldObj{r}
		}
		return nil
	case "upstreamColumns", "columns":
		out := []object{}
		for _, c := range f.Columns {
			out = append(out, columnObj{c, x.site.tables[c.TableID]})
		}
		return out
	}
	return nil
}

type columnObj struct {
	c     FixtureColumn
	table object
}

func (o columnObj) typeName() string { return "Column" }
func (o columnObj) field(_ *executor, name string, _ map[string]any) any {
	switch name {
	case "id":
		return o.c.TableID + "/" + o.c.Name
	case "name":
		return o.c.Name
	case "table":
		return o.table
	}
	return nil
}
