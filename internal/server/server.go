// Package server is dbtexposures-server's HTTP API: the subset of dbt Cloud's API
// that the provider uses (accounts, projects, environments, lineage
// integrations), as dbt Cloud's OpenAPI spec describes it, plus our manifest,
// exposures and active-run extensions. It serves every BI tool registered as a
// connector (internal/bi) without knowing any one of them. A request ends
// here; storage begins in internal/server/store (SQLite).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	_ "github.com/dbtexposures/terraform-provider-dbtexposures/internal/connectors" // every BI tool the server serves
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// MaxBodyBytes bounds request bodies; the largest legitimate one is a few KiB.
const MaxBodyBytes = 1 << 20

// MaxManifestBytes bounds an uploaded dbt manifest or catalog (large projects reach tens of MB).
const MaxManifestBytes = 256 << 20

// Server serves the API over a Store.
type Server struct {
	store  *store.Store
	log    *slog.Logger
	mux    *http.ServeMux
	biTTL  time.Duration
	egress *Egress
	// toolSettings are the operator's settings per tool (bi.Env.Settings).
	toolSettings map[string]map[string]string
	bi           *biCache
	sync         *syncer
	metrics      *metrics
	heavy        accountSlots // uploads and syncs running per account
	runLocks     keyedLocks   // one active exposure run per project at a time
	// refreshTimeout bounds how long a run waits for the tools' refresh jobs;
	// refreshPoll is how often it asks about them.
	refreshTimeout, refreshPoll time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithBICacheTTL sets how long what the server read from a BI tool is trusted.
func WithBICacheTTL(d time.Duration) Option {
	return func(s *Server) { s.biTTL = d }
}

// WithTableauTTL is WithBICacheTTL, by its name from before Power BI.
func WithTableauTTL(d time.Duration) Option { return WithBICacheTTL(d) }

// WithEgress sets where the server may connect to read BI tools; by default
// anywhere but link-local and cloud-metadata addresses.
func WithEgress(e *Egress) Option {
	return func(s *Server) { s.egress = e }
}

// WithToolSettings passes the operator's settings to one tool's clients.
func WithToolSettings(tool string, settings map[string]string) Option {
	return func(s *Server) {
		if s.toolSettings == nil {
			s.toolSettings = map[string]map[string]string{}
		}
		s.toolSettings[tool] = settings
	}
}

// PowerBIConfig is where the server reaches Power BI: the public cloud by
// default, a sovereign cloud or the emulator otherwise.
type PowerBIConfig struct {
	APIURL, LoginURL string        // "" takes Power BI's public cloud
	PollInterval     time.Duration // first wait between scanStatus polls; 0 takes the client's default
}

// WithPowerBI sets where the server reaches Power BI (default: the public cloud).
func WithPowerBI(c PowerBIConfig) Option {
	settings := map[string]string{powerbi.SettingAPIURL: c.APIURL, powerbi.SettingLoginURL: c.LoginURL}
	if c.PollInterval > 0 {
		settings[powerbi.SettingPollInterval] = c.PollInterval.String()
	}
	return WithToolSettings(powerbi.Tool.Name, settings)
}

// WithRefreshTimeout bounds how long an active exposure run waits for the
// tools' refresh jobs to finish.
func WithRefreshTimeout(d time.Duration) Option {
	return func(s *Server) { s.refreshTimeout = d }
}

// WithRefreshPoll sets how often a run asks the tools about its refresh jobs.
func WithRefreshPoll(d time.Duration) Option {
	return func(s *Server) { s.refreshPoll = d }
}

// New builds the server. A nil logger discards logs.
func New(st *store.Store, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: st, log: log, mux: http.NewServeMux(), biTTL: DefaultBICacheTTL, sync: newSyncer(),
		refreshTimeout: DefaultRefreshTimeout, refreshPoll: defaultRefreshPoll}
	for _, o := range opts {
		o(s)
	}
	if s.egress == nil {
		s.egress = &Egress{}
	}
	s.metrics = newMetrics(st)
	s.bi = newBICache(s.biTTL, log, s.toolEnv)
	s.routes()
	return s
}

// toolEnv is what the server gives a tool's clients: its egress rules, its
// retries and the operator's settings for the tool.
func (s *Server) toolEnv(tool string) bi.Env {
	transport := countingTransport{next: s.egress.Transport(), calls: s.metrics.biCalls, tool: tool}
	return bi.Env{Transport: transport, Retry: biRetry, UserAgent: "dbtexposures-server", ReuseFor: s.biTTL,
		Settings: s.toolSettings[tool]}
}

func (s *Server) routes() {
	const lineage = "/api/v3/accounts/{account_id}/projects/{project_id}/integrations/lineage/"
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.handler())
	s.mux.HandleFunc("GET /api/v2/accounts/{$}", s.authed(s.listAccounts))
	s.mux.HandleFunc("GET /api/v3/accounts/{$}", s.authed(s.listAccounts))
	s.mux.HandleFunc("GET /api/v3/accounts/{account_id}/projects/{$}", s.authed(s.inAccount(s.listProjects)))
	s.mux.HandleFunc("GET "+lineage+"{$}", s.authed(s.inProject(s.listIntegrations)))
	s.mux.HandleFunc("POST "+lineage+"{$}", s.authed(s.inProject(s.createIntegration)))
	s.mux.HandleFunc("GET "+lineage+"{id}/{$}", s.authed(s.inProject(s.getIntegration)))
	s.mux.HandleFunc("PATCH "+lineage+"{id}/{$}", s.authed(s.inProject(s.patchIntegration)))
	s.mux.HandleFunc("DELETE "+lineage+"{id}/{$}", s.authed(s.inProject(s.deleteIntegration)))
	s.mux.HandleFunc("GET "+lineage+"{id}/collections/{$}", s.authed(s.inProject(s.listCollections)))
	s.mux.HandleFunc("GET "+lineage+"{id}/collections/{collection_id}/{$}", s.authed(s.inProject(s.listCollections)))
	s.mux.HandleFunc("POST "+lineage+"{id}/selections", s.authed(s.inProject(s.postSelections)))
	const project3 = "/api/v3/accounts/{account_id}/projects/{project_id}/"
	s.mux.HandleFunc("GET "+project3+"environments/{$}", s.authed(s.inProject(s.listEnvironments)))
	s.mux.HandleFunc("GET "+project3+"environments/{id}/{$}", s.authed(s.inProject(s.getEnvironment)))
	s.mux.HandleFunc("GET "+project3+"environment-variables/environment/{$}", s.authed(s.inProject(s.listEnvVarsByEnvironment)))
	// dbt Labs' provider asks without the trailing slash.
	s.mux.HandleFunc("GET "+project3+"environment-variables/environment", s.authed(s.inProject(s.listEnvVarsByEnvironment)))
	s.mux.HandleFunc("POST "+project3+"environment-variables/bulk/{$}", s.authed(s.inProject(s.createEnvVars)))
	s.mux.HandleFunc("PUT "+project3+"environment-variables/bulk/{$}", s.authed(s.inProject(s.updateEnvVar)))
	s.mux.HandleFunc("DELETE "+project3+"environment-variables/bulk/{$}", s.authed(s.inProject(s.deleteEnvVar)))
	// Extensions of ours (not in dbt Cloud's API): the project's manifest and the exposures synced from it.
	const project = "/api/v3/accounts/{account_id}/projects/{project_id}/"
	s.mux.HandleFunc("PUT "+project+"manifest/{$}", s.authed(s.inProject(s.putManifest)))
	s.mux.HandleFunc("PUT "+project+"catalog/{$}", s.authed(s.inProject(s.putCatalog)))
	s.mux.HandleFunc("GET "+project+"exposures/{$}", s.authed(s.inProject(s.getExposures)))
	s.mux.HandleFunc("POST "+project+"exposures/sync/{$}", s.authed(s.inProject(s.postSync)))
	s.mux.HandleFunc("POST "+project+"impact/{$}", s.authed(s.inProject(s.postImpact)))
	s.mux.HandleFunc("POST "+project+"active-exposures/runs/{$}", s.authed(s.inProject(s.postActiveRun)))
	s.mux.HandleFunc("GET "+project+"active-exposures/runs/{$}", s.authed(s.inProject(s.listActiveRuns)))
	s.mux.HandleFunc("GET "+project+"active-exposures/runs/{id}/{$}", s.authed(s.inProject(s.getActiveRun)))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s on this server", r.Method, r.URL.Path))
	})
}

// ServeHTTP adds body limits, panic recovery and an access log around the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = withRequestID(w, r)
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(rec, http.StatusInternalServerError, "internal server error")
		}
		took := time.Since(start)
		s.metrics.request(r.Pattern, r.Method, rec.code, took)
		s.log.Info("request", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"duration_ms", took.Milliseconds())
	}()
	if r.Body != nil {
		limit := int64(MaxBodyBytes)
		switch {
		case strings.HasSuffix(r.URL.Path, "/manifest/"), strings.HasSuffix(r.URL.Path, "/catalog/"), strings.HasSuffix(r.URL.Path, "/impact/"):
			limit = MaxManifestBytes
		case strings.HasSuffix(r.URL.Path, "/active-exposures/runs/"):
			limit = MaxRunResultsBytes
		}
		r.Body = http.MaxBytesReader(rec, r.Body, limit)
	}
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

type ctxKey int

const accountKey ctxKey = 0

// bearer extracts the token from "Token X" or "Bearer X" (dbt Cloud accepts both).
func bearer(h string) string {
	for _, p := range []string{"Token ", "Bearer "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

// authed resolves the API token to its account, or answers 401.
func (s *Server) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r.Header.Get("Authorization"))
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Token realm="dbtexposures"`)
			writeError(w, http.StatusUnauthorized, "Authentication credentials were not provided: send the header 'Authorization: Token <api token>'.")
			return
		}
		acct, err := s.store.AccountForToken(r.Context(), tok)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Token realm="dbtexposures"`)
			writeError(w, http.StatusUnauthorized, "Invalid token.")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), accountKey, acct)))
	}
}

func tokenAccount(r *http.Request) int64 { return r.Context().Value(accountKey).(int64) }

// pathID parses an integer path parameter; ok is false after answering 404.
func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %q is not a valid ID: it must be a positive integer", name, r.PathValue(name)))
		return 0, false
	}
	return id, true
}

// inAccount checks that the path's account is the token's: another account's data is 403.
func (s *Server) inAccount(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r, "account_id")
		if !ok {
			return
		}
		if id != tokenAccount(r) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("This token cannot access account %d.", id))
			return
		}
		next(w, r)
	}
}

// inProject also checks that the path's project belongs to the account.
func (s *Server) inProject(next http.HandlerFunc) http.HandlerFunc {
	return s.inAccount(func(w http.ResponseWriter, r *http.Request) {
		pid, ok := pathID(w, r, "project_id")
		if !ok {
			return
		}
		exists, err := s.store.ProjectExists(r.Context(), tokenAccount(r), pid)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !exists {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Project %d was not found in account %d.", pid, tokenAccount(r)))
			return
		}
		next(w, r)
	})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away; nothing to answer
	}
	s.log.Error("internal error", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "error", err.Error())
	writeError(w, http.StatusInternalServerError, "internal server error; the server log has the details")
}
