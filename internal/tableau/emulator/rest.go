package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (e *Emulator) serveREST(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.REST++
	serverVersion := e.site.fixture.Server.RESTAPIVersion
	e.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "api" || !versionOK(parts[1], serverVersion) {
		writeError(w, http.StatusNotFound, "404003", "Resource Not Found",
			fmt.Sprintf("Unknown resource '%s' specified in URI.", strings.TrimPrefix(r.URL.Path, "/api")))
		return
	}
	rest := parts[2:]
	switch {
	case len(rest) == 1 && strings.EqualFold(rest[0], "serverinfo") && r.Method == http.MethodGet:
		e.serverInfo(w)
	case len(rest) == 2 && rest[0] == "auth" && rest[1] == "signin" && r.Method == http.MethodPost:
		e.signIn(w, r)
	case len(rest) == 2 && rest[0] == "auth" && rest[1] == "signout" && r.Method == http.MethodPost:
		e.signOut(w, r)
	case len(rest) == 5 && rest[0] == "sites" && rest[4] == "refresh" && r.Method == http.MethodPost &&
		(rest[2] == "datasources" || rest[2] == "workbooks"):
		if e.siteSession(w, r, rest[1]) {
			defer e.mu.Unlock()
			e.startRefresh(w, strings.TrimSuffix(rest[2], "s"), rest[3])
		}
	case len(rest) >= 3 && rest[0] == "sites" && r.Method == http.MethodGet:
		e.serveSiteGET(w, r, rest)
	default:
		writeError(w, http.StatusNotFound, "404003", "Resource Not Found", fmt.Sprintf("Unknown resource '%s' specified in URI.", r.URL.Path))
	}
}

// siteSession checks the request's session and that it is for site. When it
// reports true, e.mu is held for the caller to unlock; otherwise it answered.
func (e *Emulator) siteSession(w http.ResponseWriter, r *http.Request, site string) bool {
	if !e.session(w, r) {
		return false
	}
	e.mu.Lock()
	if site != e.site.fixture.Site.ID {
		e.mu.Unlock()
		writeError(w, http.StatusForbidden, "403000", "Forbidden", "The session is not for site "+site+".")
		return false
	}
	return true
}

// serveSiteGET answers GET /api/{v}/sites/{site}/…: projects, workbooks, jobs.
func (e *Emulator) serveSiteGET(w http.ResponseWriter, r *http.Request, rest []string) {
	if !e.siteSession(w, r, rest[1]) {
		return
	}
	defer e.mu.Unlock()
	switch {
	case len(rest) == 3 && rest[2] == "projects":
		e.listProjects(w, r.URL.Query())
	case len(rest) == 3 && rest[2] == "workbooks":
		e.listWorkbooks(w, r.URL.Query())
	case len(rest) == 4 && rest[2] == "workbooks":
		wb := e.site.byID[rest[3]]
		if wb == nil {
			writeError(w, http.StatusNotFound, "404006", "Resource Not Found", "Workbook '"+rest[3]+"' could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"workbook": e.restWorkbook(wb)})
	case len(rest) == 4 && rest[2] == "jobs":
		e.getJob(w, rest[3])
	default:
		writeError(w, http.StatusNotFound, "404003", "Resource Not Found", "Unknown resource specified in URI.")
	}
}

func (e *Emulator) serverInfo(w http.ResponseWriter) {
	e.mu.Lock()
	s := e.site.fixture.Server
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"serverInfo": map[string]any{
		"productVersion": map[string]any{"value": s.ProductVersion, "build": "20242.24.0711.1636"},
		"restApiVersion": s.RESTAPIVersion,
	}})
}

func (e *Emulator) signIn(w http.ResponseWriter, r *http.Request) {
	if e.RedirectSignInTo != "" {
		if to, err := url.Parse(e.RedirectSignInTo); err == nil && to.Host != r.Host {
			w.Header().Set("Location", strings.TrimRight(e.RedirectSignInTo, "/")+r.URL.RequestURI())
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
	}
	var body struct {
		Credentials struct {
			Name   string `json:"personalAccessTokenName"`
			Secret string `json:"personalAccessTokenSecret"`
			Site   struct {
				ContentURL *string `json:"contentUrl"`
			} `json:"site"`
		} `json:"credentials"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Credentials.Site.ContentURL == nil {
		writeError(w, http.StatusBadRequest, "400000", "Bad Request", "The request body is not a valid sign-in request.")
		return
	}
	if e.SignInDelay > 0 {
		select {
		case <-time.After(e.SignInDelay):
		case <-r.Context().Done():
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.site.fixture
	c := body.Credentials
	if c.Name != f.PersonalAccessToken.Name || c.Secret != f.PersonalAccessToken.Secret || *c.Site.ContentURL != f.Site.ContentURL {
		writeError(w, http.StatusUnauthorized, "401001", "Signin Error", "Error signing in to Tableau Server")
		return
	}
	// One session per PAT: signing in again ends the earlier session.
	if old, ok := e.byPAT[c.Name]; ok {
		e.endSession(old)
	}
	tok := newToken()
	e.sessions[tok] = c.Name
	e.byPAT[c.Name] = tok
	e.stats.SignIns++
	writeJSON(w, http.StatusOK, map[string]any{"credentials": map[string]any{
		"site":                      map[string]any{"id": f.Site.ID, "contentUrl": f.Site.ContentURL},
		"user":                      map[string]any{"id": "9f9e9d9c-0000-4000-8000-000000000001"},
		"token":                     tok,
		"estimatedTimeToExpiration": "365:59:59",
	}})
}

func (e *Emulator) signOut(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("X-Tableau-Auth")
	e.mu.Lock()
	defer e.mu.Unlock()
	if pat, ok := e.sessions[tok]; ok {
		delete(e.sessions, tok)
		delete(e.byPAT, pat)
		e.stats.SignOuts++
	}
	w.WriteHeader(http.StatusNoContent)
}

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

func pagination(size, number, total int) map[string]any {
	return map[string]any{"pageNumber": strconv.Itoa(number), "pageSize": strconv.Itoa(size), "totalAvailable": strconv.Itoa(total)}
}

func (e *Emulator) listProjects(w http.ResponseWriter, q url.Values) {
	size, number, msg := paging(q)
	conds, fmsg := parseFilter(q.Get("filter"), map[string]bool{"name": true, "parentProjectId": true})
	if msg != "" || fmsg != "" {
		writeError(w, http.StatusBadRequest, "400006", "Bad Request", msg+fmsg)
		return
	}
	var list []FixtureProject
	for _, p := range e.site.fixture.Projects {
		ok := true
		for _, c := range conds {
			switch c.field {
			case "name":
				ok = ok && c.match(p.Name)
			case "parentProjectId":
				ok = ok && c.match(p.ParentID)
			}
		}
		if ok {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name+list[i].ID < list[j].Name+list[j].ID })
	items := []any{}
	for _, p := range page(list, size, number) {
		m := map[string]any{"id": p.ID, "name": p.Name, "description": p.Description, "topLevelProject": p.ParentID == "",
			"contentPermissions": "ManagedByOwner", "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
			"owner": map[string]any{"id": "9f9e9d9c-0000-4000-8000-000000000001"}}
		if p.ParentID != "" {
			m["parentProjectId"] = p.ParentID
		}
		items = append(items, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"pagination": pagination(size, number, len(list)), "projects": wrap("project", items)})
}

// wrap puts a list under its singular key; an empty list is {} on the wire.
func wrap(key string, items []any) map[string]any {
	if len(items) == 0 {
		return map[string]any{}
	}
	return map[string]any{key: items}
}

func (e *Emulator) listWorkbooks(w http.ResponseWriter, q url.Values) {
	size, number, msg := paging(q)
	conds, fmsg := parseFilter(q.Get("filter"), map[string]bool{"name": true, "projectName": true, "ownerName": true, "ownerEmail": true, "tags": true, "updatedAt": true})
	if msg != "" || fmsg != "" {
		writeError(w, http.StatusBadRequest, "400006", "Bad Request", msg+fmsg)
		return
	}
	var list []*workbook
	for _, wb := range e.site.workbooks {
		ok := true
		for _, c := range conds {
			switch c.field {
			case "name":
				ok = ok && c.match(wb.Name)
			case "projectName":
				ok = ok && c.match(e.site.projectName(wb.ProjectID))
			case "ownerName":
				ok = ok && c.match(e.site.ownerField(wb.OwnerID, func(u *User) string { return u.Name }))
			case "ownerEmail":
				ok = ok && c.match(e.site.ownerField(wb.OwnerID, func(u *User) string { return u.Email }))
			case "tags":
				ok = ok && c.match(wb.Tags...)
			case "updatedAt":
				ok = ok && c.match(wb.UpdatedAt)
			}
		}
		if ok {
			list = append(list, wb)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	items := []any{}
	for _, wb := range page(list, size, number) {
		items = append(items, e.restWorkbook(wb))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pagination": pagination(size, number, len(list)), "workbooks": wrap("workbook", items)})
}

func (e *Emulator) restWorkbook(wb *workbook) map[string]any {
	f := e.site.fixture
	tags := []any{}
	for _, t := range wb.Tags {
		tags = append(tags, map[string]any{"label": t})
	}
	base := "https://" + strings.ToLower(f.Site.ContentURL) + ".tableau.example"
	return map[string]any{
		"id": wb.ID, "name": wb.Name, "description": wb.Description, "contentUrl": wb.vizportalID,
		"webpageUrl": base + "/#/site/" + f.Site.ContentURL + "/workbooks/" + wb.vizportalID,
		"showTabs":   "true", "size": "1", "createdAt": wb.CreatedAt, "updatedAt": wb.UpdatedAt, "encryptExtracts": "false",
		"project":  map[string]any{"id": wb.ProjectID, "name": e.site.projectName(wb.ProjectID)},
		"owner":    map[string]any{"id": wb.OwnerID},
		"location": map[string]any{"id": wb.ProjectID, "type": "Project", "name": e.site.projectName(wb.ProjectID)},
		"tags":     wrap("tag", tags),
	}
}
