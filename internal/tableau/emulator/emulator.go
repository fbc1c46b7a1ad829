package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a failure the emulator answers with, for tests of retries and limits.
type Fault struct {
	PathContains string        // which requests it hits ("" = any), e.g. "/api/metadata/graphql"
	Times        int           // how many requests it hits
	Delay        time.Duration // wait before answering (or before the fault)
	Status       int           // HTTP status to answer with; 0 = only the delay
	RetryAfter   string        // Retry-After header
	GraphQLCode  string        // answer 200 with a GraphQL error of this code (e.g. RATE_EXCEEDED)
	Partial      bool          // with GraphQLCode: include partial data, as Tableau does
	// EndSession ends the request's session just before it is served, as
	// another sign-in with the same token would: the request is refused.
	EndSession bool
}

// Stats counts what the emulator served.
type Stats struct {
	Requests       int
	SignIns        int
	SignOuts       int
	GraphQL        int
	REST           int
	ExpiredAnswers int // 401002 answers
	// SessionsEnded counts live sessions ended by another sign-in with the
	// same token (or by a Fault standing in for one).
	SessionsEnded int
	// Recoveries counts requests that succeeded on a new session after a
	// request with the same token was refused because its session had ended.
	Recoveries int
}

// Emulator is an in-memory Tableau site. It is an http.Handler.
type Emulator struct {
	mu       sync.RWMutex
	site     *site
	sessions map[string]string // session token -> PAT name
	byPAT    map[string]string // PAT name -> its one live session token
	ended    map[string]string // ended session token -> PAT name
	refused  map[string]bool   // PAT names refused on an ended session, not yet recovered
	mux      *http.ServeMux
	// restVersion is the fixture's REST API version, which never changes:
	// answers read it without the lock their handlers may hold.
	restVersion string
	faults      []*Fault
	stats       Stats
	jobs        map[string]*RefreshJob // extract refreshes, by job ID
	jobOrder    []string
	// failRefresh holds targets whose refreshes fail, with Tableau's message.
	failRefresh map[string]string

	// JobPolls is how many polls a refresh job takes to finish (DefaultJobPolls when 0).
	JobPolls int

	// NodeLimit is the Metadata API's node limit per query (Tableau: 20,000).
	NodeLimit int
	// MaxPageSize caps `first`; more is clamped with a MAX_PAGE_SIZE_EXCEEDED warning.
	MaxPageSize int
	// SignInDelay makes sign-in slow, so that concurrent sign-ins would overlap.
	SignInDelay time.Duration
	// Latency delays every answer, as a network between client and Tableau does.
	Latency time.Duration
	// lastAnswer is when (Unix ns) the emulator last finished writing an answer,
	// so that a client's own time after it can be measured.
	lastAnswer atomic.Int64
	// RedirectSignInTo, when set, answers sign-ins arriving at another host with
	// a 301 to this base URL, as Tableau Cloud does to send clients to their pod.
	RedirectSignInTo string
}

// New returns an emulator serving the fixture's site.
func New(f *Fixture) (*Emulator, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	e := &Emulator{site: buildSite(f), sessions: map[string]string{}, byPAT: map[string]string{},
		ended: map[string]string{}, refused: map[string]bool{}, NodeLimit: 20000, MaxPageSize: 1000}
	e.mux, e.restVersion = e.routes(), f.Server.RESTAPIVersion
	return e, nil
}

// Inject queues a fault.
func (e *Emulator) Inject(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// Stats returns the counters so far.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// ResetStats zeroes the counters.
func (e *Emulator) ResetStats() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats = Stats{}
}

// ExpireSessions ends every session, as a server restart or timeout would.
func (e *Emulator) ExpireSessions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions = map[string]string{}
	e.byPAT = map[string]string{}
}

// RotatePAT gives the site's personal access token a new secret and ends its
// session, as revoking and regenerating the token in Tableau does: clients
// holding the old secret are refused from then on.
func (e *Emulator) RotatePAT(secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pat := &e.site.fixture.PersonalAccessToken
	pat.Secret = secret
	if tok, ok := e.byPAT[pat.Name]; ok {
		delete(e.sessions, tok)
		delete(e.byPAT, pat.Name)
	}
}

// DeleteWorkbook removes a workbook, as someone deleting it in Tableau would.
func (e *Emulator) DeleteWorkbook(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.site.deleteWorkbook(id)
}

// Fixture returns the site as it is now.
func (e *Emulator) Fixture() *Fixture {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.site.fixture
}

func (e *Emulator) takeFault(path string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.faults {
		if f.Times > 0 && strings.Contains(path, f.PathContains) {
			f.Times--
			c := *f
			return &c
		}
	}
	return nil
}

// LastAnswer is when the emulator last finished writing an answer.
func (e *Emulator) LastAnswer() time.Time { return time.Unix(0, e.lastAnswer.Load()) }

func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.Requests++
	e.mu.Unlock()
	defer func() { e.lastAnswer.Store(time.Now().UnixNano()) }()
	if e.Latency > 0 {
		select {
		case <-time.After(e.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if f := e.takeFault(r.URL.Path); f != nil {
		if f.EndSession {
			e.mu.Lock()
			e.endSession(r.Header.Get("X-Tableau-Auth"))
			e.mu.Unlock()
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		switch {
		case f.GraphQLCode != "":
			body := map[string]any{"errors": []any{map[string]any{
				"message":    "Injected " + f.GraphQLCode,
				"extensions": map[string]any{"code": f.GraphQLCode, "severity": "ERROR"},
			}}}
			if f.Partial {
				body["data"] = map[string]any{"workbooksConnection": map[string]any{"nodes": []any{}, "pageInfo": map[string]any{"hasNextPage": false}}}
			}
			writeJSON(w, http.StatusOK, body)
			return
		case f.Status != 0:
			e.answerError(w, r, f.Status, fmt.Sprint(f.Status, "000"), http.StatusText(f.Status), "injected fault")
			return
		}
	}
	if r.URL.Path == "/api/metadata/graphql" {
		e.serveGraphQL(w, r)
		return
	}
	e.serveREST(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if answer, ok := v.(answerObject); ok {
		b, err := appendAnswer(make([]byte, 0, 64<<10), answer)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write(append(b, '\n'))
		return
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// session checks X-Tableau-Auth; ok is false after answering 401002. REST and
// the Metadata API answer a dead session alike.
func (e *Emulator) session(w http.ResponseWriter, r *http.Request) bool {
	tok := r.Header.Get("X-Tableau-Auth")
	e.mu.Lock()
	pat, ok := e.sessions[tok]
	switch {
	case ok && e.refused[pat]:
		e.stats.Recoveries++
		delete(e.refused, pat)
	case !ok:
		e.stats.ExpiredAnswers++
		if p, was := e.ended[tok]; was {
			e.refused[p] = true
		}
	}
	e.mu.Unlock()
	if !ok {
		e.answerError(w, r, http.StatusUnauthorized, "401002", "Unauthorized Access", "Invalid authentication credentials were provided.")
	}
	return ok
}

// maxEnded bounds the memory of ended sessions kept for the counters.
const maxEnded = 10000

// endSession ends a live session as another sign-in with its token would.
// The caller holds e.mu.
func (e *Emulator) endSession(tok string) {
	pat, ok := e.sessions[tok]
	if !ok {
		return
	}
	delete(e.sessions, tok)
	delete(e.byPAT, pat)
	if len(e.ended) >= maxEnded {
		clear(e.ended)
	}
	e.ended[tok] = pat
	e.stats.SessionsEnded++
}
