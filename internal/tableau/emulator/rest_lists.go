package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// paging reads pageSize (1..1000, default 100) and pageNumber (from 1).
func paging(q url.Values) (size, number int, err string) {
	size, number = 100, 1
	if v := q.Get("pageSize"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 1000 {
			return 0, 0, "pageSize must be a number from 1 to 1000"
		}
		size = n
	}
	if v := q.Get("pageNumber"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 {
			return 0, 0, "pageNumber must be a number of 1 or more"
		}
		number = n
	}
	return size, number, ""
}

// condition is one filter term: field:op:value.
type condition struct {
	field, op string
	values    []string
}

func parseFilter(expr string, allowed map[string]bool) ([]condition, string) {
	if expr == "" {
		return nil, ""
	}
	var out []condition
	for _, term := range splitTerms(expr) {
		parts := strings.SplitN(term, ":", 3)
		if len(parts) != 3 || !allowed[parts[0]] {
			return nil, fmt.Sprintf("Invalid filter term %q: the field is unknown or the term is not field:operator:value", term)
		}
		c := condition{field: parts[0], op: parts[1]}
		switch c.op {
		case "eq", "cieq", "has":
			c.values = []string{parts[2]}
		case "in":
			v := strings.TrimSuffix(strings.TrimPrefix(parts[2], "["), "]")
			c.values = strings.Split(v, ",")
		default:
			return nil, fmt.Sprintf("Invalid filter operator %q", c.op)
		}
		out = append(out, c)
	}
	return out, ""
}

// splitTerms splits on commas outside [...] lists.
func splitTerms(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func (c condition) match(vals ...string) bool {
	for _, v := range vals {
		for _, want := range c.values {
			switch c.op {
			case "eq", "in", "has":
				if v == want {
					return true
				}
			case "cieq":
				if strings.EqualFold(v, want) {
					return true
				}
			}
		}
	}
	return false
}

func page[T any](items []T, size, number int) []T {
	start := (number - 1) * size
	if start >= len(items) {
		return nil
	}
	return items[start:min(len(items), start+size)]
}

func paginationEl(size, number, total int) *el {
	return elem("pagination", "pageNumber", strconv.Itoa(number), "pageSize", strconv.Itoa(size), "totalAvailable", strconv.Itoa(total))
}

// listPage reads paging and filter terms over the allowed fields; ok is
// false once it has answered a bad request.
func (e *Emulator) listPage(w http.ResponseWriter, r *http.Request, fields ...string) (size, number int, conds []condition, ok bool) {
	q := r.URL.Query()
	size, number, msg := paging(q)
	allowed := map[string]bool{}
	for _, f := range fields {
		allowed[f] = true
	}
	conds, fmsg := parseFilter(q.Get("filter"), allowed)
	if msg != "" || fmsg != "" {
		e.answerError(w, r, http.StatusBadRequest, "400006", "Bad Request", msg+fmsg)
		return 0, 0, nil, false
	}
	return size, number, conds, true
}

// matchAll reports whether every condition holds; value gives a field's values.
func matchAll(conds []condition, value func(field string) []string) bool {
	for _, c := range conds {
		if !c.match(value(c.field)...) {
			return false
		}
	}
	return true
}

func (e *Emulator) listProjects(w http.ResponseWriter, r *http.Request) {
	size, number, conds, ok := e.listPage(w, r, "name", "parentProjectId")
	if !ok {
		return
	}
	var list []FixtureProject
	for _, p := range e.site.fixture.Projects {
		if matchAll(conds, func(field string) []string {
			if field == "name" {
				return []string{p.Name}
			}
			return []string{p.ParentID}
		}) {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name+list[i].ID < list[j].Name+list[j].ID })
	var items []*el
	for _, p := range page(list, size, number) {
		items = append(items, elem("project", "id", p.ID, "name", p.Name, "description", p.Description,
			"contentPermissions", "ManagedByOwner").attr("parentProjectId", p.ParentID).attr("topLevelProject", strconv.FormatBool(p.ParentID == "")).
			attr("createdAt", "2024-01-01T00:00:00Z").attr("updatedAt", "2024-01-01T00:00:00Z").
			add(elem("owner", "id", e.site.tokenOwner())))
	}
	e.answer(w, r, http.StatusOK, paginationEl(size, number, len(list)), listEl("projects", items))
}

func (e *Emulator) listWorkbooks(w http.ResponseWriter, r *http.Request) {
	size, number, conds, ok := e.listPage(w, r, "name", "projectName", "ownerName", "ownerEmail", "tags", "updatedAt")
	if !ok {
		return
	}
	var list []*workbook
	for _, wb := range e.site.workbooks {
		if matchAll(conds, func(field string) []string { return e.site.workbookField(wb, field) }) {
			list = append(list, wb)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	var items []*el
	for _, wb := range page(list, size, number) {
		items = append(items, e.workbookEl(wb))
	}
	e.answer(w, r, http.StatusOK, paginationEl(size, number, len(list)), listEl("workbooks", items))
}

// workbookField is a workbook's values for a filter field.
func (s *site) workbookField(wb *workbook, field string) []string {
	switch field {
	case "name":
		return []string{wb.Name}
	case "projectName":
		return []string{s.projectName(wb.ProjectID)}
	case "ownerName":
		return []string{s.ownerField(wb.OwnerID, func(u *User) string { return u.Name })}
	case "ownerEmail":
		return []string{s.ownerField(wb.OwnerID, func(u *User) string { return u.Email })}
	case "tags":
		return wb.Tags
	case "updatedAt":
		return []string{wb.UpdatedAt}
	}
	return nil
}

func (e *Emulator) getWorkbook(w http.ResponseWriter, r *http.Request) {
	wb := e.site.byID[r.PathValue("id")]
	if wb == nil {
		e.answerError(w, r, http.StatusNotFound, "404006", "Resource Not Found", "Workbook '"+r.PathValue("id")+"' could not be found.")
		return
	}
	var views []*el
	for _, sh := range wb.Sheets {
		views = append(views, elem("view", "id", sh.ID, "name", sh.Name,
			"contentUrl", wb.vizportalID+"/sheets/"+strings.ReplaceAll(sh.Name, " ", "")))
	}
	e.answer(w, r, http.StatusOK, e.workbookEl(wb).add(listEl("views", views)))
}

func (e *Emulator) workbookEl(wb *workbook) *el {
	project := e.site.projectName(wb.ProjectID)
	return elem("workbook", "id", wb.ID, "name", wb.Name, "description", wb.Description, "contentUrl", wb.vizportalID,
		"webpageUrl", e.site.webpage("workbooks", wb.vizportalID), "showTabs", "true", "size", "1",
		"createdAt", wb.CreatedAt, "updatedAt", wb.UpdatedAt, "encryptExtracts", "false").add(
		elem("project", "id", wb.ProjectID, "name", project),
		elem("owner", "id", wb.OwnerID),
		elem("location", "id", wb.ProjectID, "type", "Project", "name", project),
		tagsEl(wb.Tags))
}

func tagsEl(tags []string) *el {
	var items []*el
	for _, t := range tags {
		items = append(items, elem("tag", "label", t))
	}
	return listEl("tags", items)
}

// webpage is the address of a workbook or data source in Tableau's web client.
func (s *site) webpage(kind, id string) string {
	f := s.fixture
	return "https://" + strings.ToLower(f.Site.ContentURL) + ".tableau.example/#/site/" + f.Site.ContentURL + "/" + kind + "/" + id
}
