package emulator

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// routes maps the REST API the emulator serves: what our client and
// tableauserverclient call for what the emulator covers.
func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	onSite := func(pattern string, h http.HandlerFunc) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if e.siteSession(w, r, r.PathValue("site")) {
				defer e.mu.Unlock()
				h(w, r)
			}
		})
	}
	// Tableau's clients write serverInfo; its docs write serverinfo.
	m.HandleFunc("GET /api/{v}/serverinfo", e.serverInfo)
	m.HandleFunc("GET /api/{v}/serverInfo", e.serverInfo)
	m.HandleFunc("POST /api/{v}/auth/signin", e.signIn)
	m.HandleFunc("POST /api/{v}/auth/signout", e.signOut)
	m.HandleFunc("GET /api/{v}/sites", e.listSites)
	onSite("GET /api/{v}/sites/{site}", e.getSite)
	onSite("GET /api/{v}/sites/{site}/users/{id}", e.getUser)
	onSite("GET /api/{v}/sites/{site}/projects", e.listProjects)
	onSite("GET /api/{v}/sites/{site}/workbooks", e.listWorkbooks)
	onSite("GET /api/{v}/sites/{site}/workbooks/{id}", e.getWorkbook)
	onSite("GET /api/{v}/sites/{site}/workbooks/{id}/connections", e.workbookConnections)
	onSite("POST /api/{v}/sites/{site}/workbooks/{id}/refresh", e.startRefresh("workbook"))
	onSite("GET /api/{v}/sites/{site}/datasources", e.listDatasources)
	onSite("GET /api/{v}/sites/{site}/datasources/{id}", e.getDatasource)
	onSite("GET /api/{v}/sites/{site}/datasources/{id}/connections", e.datasourceConnections)
	onSite("POST /api/{v}/sites/{site}/datasources/{id}/refresh", e.startRefresh("datasource"))
	onSite("GET /api/{v}/sites/{site}/jobs", e.listJobs)
	onSite("GET /api/{v}/sites/{site}/jobs/{id}", e.getJob)
	m.HandleFunc("/", e.unknownResource) // every other path and method
	return m
}

func (e *Emulator) unknownResource(w http.ResponseWriter, r *http.Request) {
	e.answerError(w, r, http.StatusNotFound, "404003", "Resource Not Found",
		fmt.Sprintf("Unknown resource '%s' specified in URI.", strings.TrimPrefix(r.URL.Path, "/api")))
}

func (e *Emulator) serveREST(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.REST++
	serverVersion := e.site.fixture.Server.RESTAPIVersion
	e.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "api" || !versionOK(parts[1], serverVersion) {
		e.unknownResource(w, r)
		return
	}
	e.mux.ServeHTTP(w, r)
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
		e.answerError(w, r, http.StatusForbidden, "403000", "Forbidden", "The session is not for site "+site+".")
		return false
	}
	return true
}

func (e *Emulator) serverInfo(w http.ResponseWriter, r *http.Request) {
	e.mu.RLock()
	s := e.site.fixture.Server
	e.mu.RUnlock()
	version := elem("productVersion", "build", "20242.24.0711.1636")
	version.text = s.ProductVersion
	e.answer(w, r, http.StatusOK, elem("serverInfo").add(version, textEl("restApiVersion", s.RESTAPIVersion)))
}

// maxRequestBody bounds what the emulator reads of a request.
const maxRequestBody = 1 << 20

func readLimited(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
}

func (e *Emulator) signIn(w http.ResponseWriter, r *http.Request) {
	if e.redirectSignIn(w, r) {
		return
	}
	var body signInRequest
	if err := decodeRequest(r, &body); err != nil || body.Credentials.Site == nil {
		e.answerError(w, r, http.StatusBadRequest, "400000", "Bad Request", "The request body is not a valid sign-in request.")
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
	f := e.site.fixture
	c := body.Credentials
	if c.Name != f.PersonalAccessToken.Name || c.Secret != f.PersonalAccessToken.Secret || c.Site.ContentURL != f.Site.ContentURL {
		e.mu.Unlock()
		e.answerError(w, r, http.StatusUnauthorized, "401001", "Signin Error", "Error signing in to Tableau Server")
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
	creds := elem("credentials", "token", tok, "estimatedTimeToExpiration", "365:59:59").add(
		elem("site", "id", f.Site.ID, "contentUrl", f.Site.ContentURL), elem("user", "id", e.site.tokenOwner()))
	e.mu.Unlock()
	e.answer(w, r, http.StatusOK, creds)
}

// redirectSignIn answers a sign-in at another host than RedirectSignInTo's
// with a 301 there, as Tableau Cloud sends clients to their pod.
func (e *Emulator) redirectSignIn(w http.ResponseWriter, r *http.Request) bool {
	if e.RedirectSignInTo == "" {
		return false
	}
	to, err := url.Parse(e.RedirectSignInTo)
	if err != nil || to.Host == r.Host {
		return false
	}
	w.Header().Set("Location", strings.TrimRight(e.RedirectSignInTo, "/")+r.URL.RequestURI())
	w.WriteHeader(http.StatusMovedPermanently)
	return true
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
