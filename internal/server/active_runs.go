package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// Active exposure runs: an extension of ours (dbt Cloud runs active exposures
// itself after its jobs). A dbt Core user posts target/run_results.json after
// `dbt build`, and the server refreshes the Tableau extracts downstream of
// what was built, as dbt Cloud would.

// MaxRunResultsBytes bounds a run-results upload (one result per node run).
const MaxRunResultsBytes = 64 << 20

// runJSON is a run as the API answers it.
type runJSON struct {
	ID            int64  `json:"id"`
	EnvironmentID int64  `json:"environment_id"`
	StartedAt     string `json:"started_at"`
	FinishedAt    string `json:"finished_at"`
	Status        string `json:"status"` // success, or failed when a refresh failed
	// Refreshes are a new run's []refreshJSON, or a stored run's as stored.
	Refreshes any `json:"refreshes"`
	// UnknownUniqueIDs are run results the project's stored manifest does not know.
	UnknownUniqueIDs []string `json:"unknown_unique_ids"`
	// InvocationID is dbt's metadata.invocation_id of the run, when it wrote one.
	InvocationID string `json:"invocation_id,omitempty"`
}

// postActiveRun records a dbt run and refreshes what it should.
func (s *Server) postActiveRun(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	env, rr, err := s.readRunRequest(r, pid)
	if s.answerBad(w, r, err) {
		return
	}
	known, exps, err := s.runInputs(r.Context(), tokenAccount(r), pid)
	if s.answerBad(w, r, err) {
		return
	}
	// One run of a project at a time, whichever replica it is posted to: the
	// refresh history and the interval decision are the database's.
	unlock := s.runLocks.lock(pid)
	defer unlock()
	release, err := s.store.Lock(r.Context(), store.LockRun, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer release()
	if err := s.takeOver(r.Context(), tokenAccount(r), pid); err != nil {
		s.internal(w, r, err)
		return
	}
	// The same dbt run posted again, here or to another replica, is the
	// run already recorded: its result is answered, nothing is refreshed twice.
	if rr.invocationID != "" {
		if done, err := s.store.RunByInvocation(r.Context(), pid, rr.invocationID); err == nil {
			writeObject(w, http.StatusOK, toRunJSON(done))
			return
		} else if !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
	}
	run, err := s.activeRun(r.Context(), tokenAccount(r), pid, env, rr, known, exps)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeObject(w, http.StatusCreated, run)
}

// readRunRequest validates {"environment_id", "run_results"}.
func (s *Server) readRunRequest(r *http.Request, pid int64) (*store.Environment, *runResults, error) {
	m, err := readObject(r, "", "environment_id", "run_results")
	if err != nil {
		return nil, nil, err
	}
	envID, present, err := intField(m, "environment_id", "environment_id")
	if err != nil {
		return nil, nil, err
	}
	if !present {
		return nil, nil, badField("environment_id", "is required: the dbt Cloud environment the run built in")
	}
	env, err := s.store.GetEnvironment(r.Context(), tokenAccount(r), pid, envID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, badField("environment_id", "project %d has no environment %d; list them at GET .../projects/%d/environments/", pid, envID, pid)
	}
	if err != nil {
		return nil, nil, err
	}
	raw, ok := m["run_results"]
	if !ok {
		return nil, nil, badField("run_results", "is required: the contents of dbt's target/run_results.json")
	}
	rr, err := parseRunResults(raw)
	return env, rr, err
}

// runInputs reads the stored manifest's unique IDs and the last sync's exposures.
func (s *Server) runInputs(ctx context.Context, accountID, pid int64) (map[string]bool, []exposureJSON, error) {
	raw, err := s.store.Manifest(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, &badRequest{msg: fmt.Sprintf("Project %d has no dbt manifest yet: PUT target/manifest.json to .../projects/%d/manifest/ first.", pid, pid)}
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := exposures.LoadStored(raw)
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]bool, len(m.Nodes))
	for _, n := range m.Nodes {
		known[n.UniqueID] = true
	}
	exps, err := s.storedExposures(ctx, pid)
	if err != nil || !predatesTargets(exps) {
		return known, exps, err
	}
	// Exposures synced by an older version lack their refresh targets: sync
	// once now rather than refresh nothing until the next sync.
	if _, err := s.store.RequestSync(ctx, pid); err != nil {
		return known, exps, err
	}
	if err := s.syncProject(ctx, accountID, pid); err != nil {
		s.log.Warn("re-syncing exposures stored by an older version", "project_id", pid, "error", err.Error())
	}
	exps, err = s.storedExposures(ctx, pid)
	return known, exps, err
}

// storedExposures are the last successful sync's exposures.
func (s *Server) storedExposures(ctx context.Context, pid int64) ([]exposureJSON, error) {
	var exps []exposureJSON
	rec, err := s.store.Exposures(ctx, pid, false)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if rec != nil && rec.ExposuresJSON != "" {
		if err := json.Unmarshal([]byte(rec.ExposuresJSON), &exps); err != nil {
			return nil, err
		}
	}
	return exps, nil
}

// predatesTargets reports whether exposures were stored before refresh targets were.
func predatesTargets(exps []exposureJSON) bool {
	for _, e := range exps {
		if e.RefreshTargets == nil {
			return true
		}
	}
	return false
}

// activeRun decides, refreshes and records one run.
func (s *Server) activeRun(ctx context.Context, accountID, pid int64, env *store.Environment, rr *runResults, known map[string]bool, exps []exposureJSON) (*runJSON, error) {
	started := time.Now().UTC()
	succeeded := map[string]bool{}
	unknown := []string{}
	for _, n := range rr.results {
		if !known[n.UniqueID] {
			unknown = append(unknown, n.UniqueID)
		}
		if n.Status == "success" {
			succeeded[n.UniqueID] = true
		}
	}
	sort.Strings(unknown)
	set, err := s.activeSettings(ctx, pid, env.ID)
	if err != nil {
		return nil, err
	}
	rs, err := s.planRefreshes(ctx, pid, exps, succeeded, set, started)
	if err != nil {
		return nil, err
	}
	uj, _ := json.Marshal(unknown)
	runID, err := s.store.StartRun(ctx, store.Run{ProjectID: pid, EnvironmentID: env.ID, StartedAt: started.Format(time.RFC3339Nano),
		UnknownJSON: string(uj), InvocationID: rr.invocationID}, recorded(rs))
	if err != nil {
		return nil, err
	}
	if err := s.refreshPlanned(ctx, accountID, pid, runID, rs); err != nil {
		return nil, err
	}
	run := &runJSON{ID: runID, EnvironmentID: env.ID, InvocationID: rr.invocationID, StartedAt: started.Format(time.RFC3339Nano), FinishedAt: time.Now().UTC().Format(time.RFC3339Nano),
		Status: "success", Refreshes: rs, UnknownUniqueIDs: unknown}
	return run, s.finishRun(ctx, pid, env, run, rs)
}

// recorded are the run's refreshes as StartRun records them, numbered.
func recorded(rs []refreshJSON) []store.RunRefresh {
	out := make([]store.RunRefresh, len(rs))
	for i := range rs {
		r := &rs[i]
		r.seq = int64(i)
		state := r.Action
		if state == "" {
			state = store.RefreshPlanned
		}
		out[i] = store.RunRefresh{Seq: r.seq, Tool: r.tool.Name, Exposure: r.Exposure, DashboardID: r.dashboardID, TargetType: r.TargetType,
			TargetID: r.TargetID, TargetName: r.TargetName, Scope: r.scope, State: state, Reason: r.Reason}
	}
	return out
}

// finishRun logs each refresh and records the run's end, with the targets
// refreshed, so that the interval holds.
func (s *Server) finishRun(ctx context.Context, pid int64, env *store.Environment, run *runJSON, rs []refreshJSON) error {
	var refreshed []store.Target
	for _, x := range rs {
		s.log.Info("active exposure refresh", "project_id", pid, "environment", env.Name, "exposure", x.Exposure,
			"tool", x.tool.Name, "target_type", x.TargetType, "target_id", x.TargetID, "action", x.Action, "reason", x.Reason, "job_id", x.jobID)
		s.metrics.refreshes.WithLabelValues(x.Action).Inc()
		switch x.Action {
		case actionFailed:
			run.Status = "failed"
		case actionUnknown:
			if run.Status != "failed" {
				run.Status = actionUnknown
			}
		case actionRefreshed:
			refreshed = append(refreshed, store.Target{Type: x.TargetType, ID: x.TargetID})
		}
	}
	rj, _ := json.Marshal(rs)
	uj, _ := json.Marshal(run.UnknownUniqueIDs)
	// Recorded even when the client went away: the refreshes happened.
	_, err := s.store.SaveRun(context.WithoutCancel(ctx), store.Run{ID: run.ID, ProjectID: pid, EnvironmentID: env.ID, StartedAt: run.StartedAt,
		FinishedAt: run.FinishedAt, Status: run.Status, RefreshesJSON: string(rj), UnknownJSON: string(uj), InvocationID: run.InvocationID},
		refreshed, time.Now())
	return err
}

// refreshPlanned runs the planned refreshes through the project's
// integrations, each tool's at once.
func (s *Server) refreshPlanned(ctx context.Context, accountID, pid, runID int64, rs []refreshJSON) error {
	byTool := map[bi.Tool][]*refreshJSON{}
	for i := range rs {
		if rs[i].Action == "" {
			byTool[rs[i].tool] = append(byTool[rs[i].tool], &rs[i])
		}
	}
	var wg sync.WaitGroup
	for tool, planned := range byTool {
		c, why, err := s.refresherFor(ctx, accountID, pid, tool)
		if err != nil {
			return err
		}
		if c == nil {
			failPlanned(planned, why)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runRefreshes(ctx, runID, tool, c, planned)
		}()
	}
	wg.Wait()
	return nil
}

// refresherFor is the client of the project's integration of tool, or why there is none.
func (s *Server) refresherFor(ctx context.Context, accountID, pid int64, tool bi.Tool) (bi.Client, string, error) {
	in, err := s.integrationOf(ctx, accountID, pid, tool.Name)
	if err != nil {
		return nil, "", err
	}
	if in == nil {
		return nil, fmt.Sprintf("the project has no %s integration: create one (dbtexposures_%s_connection) before running active exposures", tool.Label, tool.Name), nil
	}
	_, c, err := s.bi.client(in)
	if err != nil {
		return nil, err.Error(), nil
	}
	return c, "", nil
}

// integrationOf is the project's integration of tool, or nil.
func (s *Server) integrationOf(ctx context.Context, accountID, projectID int64, tool string) (*store.Integration, error) {
	list, _, err := s.store.ListIntegrations(ctx, accountID, projectID, 100, 0)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Name == tool {
			return &list[i], nil
		}
	}
	return nil, nil
}

func failPlanned(rs []*refreshJSON, reason string) {
	for _, r := range rs {
		r.Action, r.Reason = actionFailed, reason
	}
}

// getActiveRun answers one run.
func (s *Server) getActiveRun(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	run, err := s.store.GetRun(r.Context(), pid, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Project %d has no active exposure run %d.", pid, id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, toRunJSON(run))
}

// listActiveRuns answers the project's runs, newest first, paged.
func (s *Server) listActiveRuns(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	limit, offset, msg := pageParams(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	runs, total, err := s.store.ListRuns(r.Context(), pid, limit, offset)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]runJSON, 0, len(runs))
	for i := range runs {
		out = append(out, toRunJSON(&runs[i]))
	}
	writeList(w, out, len(out), total)
}

func toRunJSON(r *store.Run) runJSON {
	out := runJSON{ID: r.ID, EnvironmentID: r.EnvironmentID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status,
		Refreshes: json.RawMessage(r.RefreshesJSON), InvocationID: r.InvocationID}
	_ = json.Unmarshal([]byte(r.UnknownJSON), &out.UnknownUniqueIDs)
	return out
}
