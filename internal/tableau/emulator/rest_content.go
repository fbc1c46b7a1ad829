package emulator

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// siteSettings are the site's settings that the fixture does not set, as a
// new Tableau Cloud site has them.
var siteSettings = []string{
	"adminMode", "ContentAndUsers", "storageQuota", "100", "disableSubscriptions", "false", "state", "Active",
	"revisionHistoryEnabled", "true", "revisionLimit", "25", "subscribeOthersEnabled", "true",
	"allowSubscriptionAttachments", "true", "guestAccessEnabled", "false", "cacheWarmupEnabled", "true",
	"commentingEnabled", "true", "commentingMentionsEnabled", "true", "editingFlowsEnabled", "true",
	"schedulingFlowsEnabled", "true", "extractEncryptionMode", "enabled", "catalogingEnabled", "true",
	"catalogObfuscationEnabled", "true", "derivedPermissionsEnabled", "false", "requestAccessEnabled", "false",
	"runNowEnabled", "true", "storage", "0", "userQuota", "-1", "tierCreatorCapacity", "-1",
	"tierExplorerCapacity", "-1", "tierViewerCapacity", "-1", "isDataAlertsEnabled", "true",
	"askDataMode", "EnabledByDefault", "useDefaultTimeZone", "true", "timeZone", "UTC",
}

func (e *Emulator) siteEl() *el {
	f := e.site.fixture
	s := elem("site", "id", f.Site.ID, "name", f.Site.Name, "contentUrl", f.Site.ContentURL)
	s.attrs = append(s.attrs, siteSettings...)
	return s.attr("numUsers", strconv.Itoa(len(f.Users)))
}

func (e *Emulator) getSite(w http.ResponseWriter, r *http.Request) {
	e.answer(w, r, http.StatusOK, e.siteEl())
}

// listSites lists the sites the session may use: its own.
func (e *Emulator) listSites(w http.ResponseWriter, r *http.Request) {
	if !e.session(w, r) {
		return
	}
	e.mu.Lock()
	s := e.siteEl()
	e.mu.Unlock()
	e.answer(w, r, http.StatusOK, paginationEl(100, 1, 1), listEl("sites", []*el{s}))
}

func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	u := e.site.users[r.PathValue("id")]
	if u == nil {
		e.answerError(w, r, http.StatusNotFound, "404002", "Resource Not Found", "User '"+r.PathValue("id")+"' could not be found.")
		return
	}
	role := u.SiteRole
	if role == "" {
		role = "Creator"
	}
	e.answer(w, r, http.StatusOK, elem("user", "id", u.ID, "name", u.Username, "fullName", u.Name, "email", u.Email,
		"siteRole", role, "authSetting", "ServerDefault", "lastLogin", u.LastLogin, "externalAuthUserId", "").
		add(elem("domain", "name", "local")))
}

func (e *Emulator) listDatasources(w http.ResponseWriter, r *http.Request) {
	size, number, conds, ok := e.listPage(w, r, "name", "projectName", "hasExtracts")
	if !ok {
		return
	}
	var list []*FixtureDatasource
	for _, d := range e.site.datasources {
		if matchAll(conds, func(field string) []string {
			switch field {
			case "name":
				return []string{d.Name}
			case "projectName":
				return []string{e.site.projectName(d.ProjectID)}
			}
			return []string{strconv.FormatBool(d.HasExtracts)}
		}) {
			list = append(list, d)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name+list[i].ID < list[j].Name+list[j].ID })
	var items []*el
	for _, d := range page(list, size, number) {
		items = append(items, e.datasourceEl(d))
	}
	e.answer(w, r, http.StatusOK, paginationEl(size, number, len(list)), listEl("datasources", items))
}

func (e *Emulator) getDatasource(w http.ResponseWriter, r *http.Request) {
	d := e.site.datasources[r.PathValue("id")]
	if d == nil {
		e.answerError(w, r, http.StatusNotFound, "404011", "Resource Not Found", "Datasource '"+r.PathValue("id")+"' could not be found.")
		return
	}
	e.answer(w, r, http.StatusOK, e.datasourceEl(d).add(elem("askData", "enablement", "SiteDefault")))
}

func (e *Emulator) datasourceEl(d *FixtureDatasource) *el {
	content := d.ContentURL
	if content == "" {
		content = strings.ReplaceAll(d.Name, " ", "")
	}
	kind := d.Type
	if kind == "" {
		kind = "dataengine"
	}
	owner := d.OwnerID
	if owner == "" {
		owner = e.site.tokenOwner()
	}
	return elem("datasource", "id", d.ID, "name", d.Name, "size", "1", "contentUrl", content, "description", d.Description,
		"type", kind, "createdAt", d.CreatedAt, "updatedAt", d.UpdatedAt, "encryptExtracts", "false",
		"hasExtracts", strconv.FormatBool(d.HasExtracts), "useRemoteQueryAgent", "false",
		"webpageUrl", e.site.webpage("datasources", content)).add(
		elem("project", "id", d.ProjectID, "name", e.site.projectName(d.ProjectID)),
		elem("owner", "id", owner),
		tagsEl(d.Tags))
}

func (e *Emulator) workbookConnections(w http.ResponseWriter, r *http.Request) {
	wb := e.site.byID[r.PathValue("id")]
	if wb == nil {
		e.answerError(w, r, http.StatusNotFound, "404006", "Resource Not Found", "Workbook '"+r.PathValue("id")+"' could not be found.")
		return
	}
	e.answer(w, r, http.StatusOK, e.connectionsEl(wb.ID, wb.connections()))
}

func (e *Emulator) datasourceConnections(w http.ResponseWriter, r *http.Request) {
	d := e.site.datasources[r.PathValue("id")]
	if d == nil {
		e.answerError(w, r, http.StatusNotFound, "404011", "Resource Not Found", "Datasource '"+r.PathValue("id")+"' could not be found.")
		return
	}
	e.answer(w, r, http.StatusOK, e.connectionsEl(d.ID, d.Connections))
}

func (e *Emulator) connectionsEl(owner string, conns []FixtureConnection) *el {
	var items []*el
	for i, c := range conns {
		id := c.ID
		if id == "" {
			id = stableLUID(fmt.Sprint(owner, "/connection/", i))
		}
		x := elem("connection", "id", id, "type", c.Type, "serverAddress", c.ServerAddress, "userName", c.UserName,
			"embedPassword", strconv.FormatBool(c.EmbedPassword))
		if d := e.site.datasources[c.DatasourceID]; d != nil {
			x.add(elem("datasource", "id", d.ID, "name", d.Name))
		}
		items = append(items, x)
	}
	return listEl("connections", items)
}

// connections are the workbook's own, or else those its lineage implies: one
// per published data source it uses, and one per database it reads.
func (w *workbook) connections() []FixtureConnection {
	if len(w.Connections) > 0 {
		return w.Connections
	}
	var out []FixtureConnection
	for _, id := range w.UpstreamDatasources {
		out = append(out, FixtureConnection{Type: "sqlproxy", DatasourceID: id})
	}
	seen := map[string]bool{}
	add := func(kind, database string) {
		if !seen[kind+"\x00"+database] {
			seen[kind+"\x00"+database] = true
			out = append(out, FixtureConnection{Type: kind})
		}
	}
	for _, t := range w.UpstreamTables {
		add(t.ConnectionType, t.Database)
	}
	for _, q := range w.CustomSQL {
		add(q.ConnectionType, q.Database)
	}
	return out
}

// stableLUID is an ID in Tableau's form that is the same for the same key.
func stableLUID(key string) string {
	h := fmt.Sprintf("%x", sha256.Sum256([]byte(key)))
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}
