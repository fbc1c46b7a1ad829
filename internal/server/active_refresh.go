package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// The environment variables dbt Cloud reads to run active exposures.
const (
	envActiveExposures = "DBT_ACTIVE_EXPOSURES"
	envBuildAfter      = "DBT_ACTIVE_EXPOSURES_BUILD_AFTER"
	// defaultBuildAfter is dbt Cloud's default interval, in minutes.
	defaultBuildAfter = 1440
)

// Defaults for running refreshes: how long a run waits for Tableau's jobs, and
// how often it asks about them.
const (
	DefaultRefreshTimeout = 5 * time.Minute
	defaultRefreshPoll    = time.Second
)

// Refresh actions, as the run answers them.
const (
	actionRefreshed = "refreshed"
	actionSkipped   = "skipped"
	actionFailed    = "failed"
)

// targetPowerBIDataset is the target type of a Power BI report's dataset;
// Tableau's are its extract kinds (datasource, workbook).
const targetPowerBIDataset = "powerbi_dataset"

// refreshJSON is one target of a run and what became of it.
type refreshJSON struct {
	Exposure     string `json:"exposure"`
	WorkbookID   string `json:"workbook_id,omitempty"`
	ReportID     string `json:"powerbi_report_id,omitempty"`
	TargetType   string `json:"target_type"`
	TargetID     string `json:"target_id"`
	TargetName   string `json:"target_name"`
	Action       string `json:"action"`
	Reason       string `json:"reason"`
	TableauJobID string `json:"tableau_job_id,omitempty"`
	// WorkspaceID is the Power BI dataset's workspace; RequestID its refresh's.
	WorkspaceID string `json:"powerbi_workspace_id,omitempty"`
	RequestID   string `json:"powerbi_request_id,omitempty"`
	jobID       string // the job polled: Tableau's job or Power BI's request
}

// activeSettings are an environment's active-exposure variables, with the
// project's defaults where the environment sets none.
type activeSettings struct {
	enabled    bool
	buildAfter int // minutes
}

func (s *Server) activeSettings(ctx context.Context, pid, envID int64) (activeSettings, error) {
	values, err := s.store.EnvVars(ctx, pid)
	if err != nil {
		return activeSettings{}, err
	}
	pick := func(name string) (string, bool) {
		var project string
		var found bool
		for _, v := range values {
			if v.Name != name {
				continue
			}
			if v.EnvironmentID == envID {
				return v.Value, true
			}
			if v.EnvironmentID == 0 {
				project, found = v.Value, true
			}
		}
		return project, found
	}
	set := activeSettings{buildAfter: defaultBuildAfter}
	if v, ok := pick(envActiveExposures); ok {
		set.enabled = v == "1"
	}
	if v, ok := pick(envBuildAfter); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			set.buildAfter = n
		}
	}
	return set, nil
}

// planRefreshes lists the targets of the candidates (exposures with a node that
// built successfully), each once, with the skips already decided.
func (s *Server) planRefreshes(ctx context.Context, pid int64, exps []exposureJSON, succeeded map[string]bool, set activeSettings, now time.Time) ([]refreshJSON, error) {
	var out []refreshJSON
	first := map[store.Target]string{} // target -> the exposure that refreshes it
	for _, e := range exps {
		if !anyIn(e.DependsOnIDs, succeeded) {
			continue
		}
		for _, r := range targets(e) {
			t := store.Target{Type: r.TargetType, ID: r.TargetID}
			if !set.enabled {
				r.Reason = fmt.Sprintf("disabled: %s is not 1 for this environment (nor as the project default)", envActiveExposures)
				out = append(out, r)
				continue
			}
			if by, dup := first[t]; dup {
				r.Reason = fmt.Sprintf("refreshed once per run: listed already for exposure %s", by)
				out = append(out, r)
				continue
			}
			first[t] = e.Name
			reason, err := s.skipReason(ctx, pid, t, set.buildAfter, now)
			if err != nil {
				return nil, err
			}
			if reason == "" {
				r.Action = ""
			}
			r.Reason = reason
			out = append(out, r)
		}
	}
	return out, nil
}

// skipReason says why an enabled target is not refreshed now, or "" when it is.
func (s *Server) skipReason(ctx context.Context, pid int64, t store.Target, buildAfter int, now time.Time) (string, error) {
	last, ok, err := s.store.LastRefresh(ctx, pid, t)
	if err != nil || !ok {
		return "", err
	}
	if age := now.Sub(last); age < time.Duration(buildAfter)*time.Minute {
		return fmt.Sprintf("refreshed successfully at %s, less than %s=%d minutes ago",
			last.UTC().Format(time.RFC3339), envBuildAfter, buildAfter), nil
	}
	return "", nil
}

// targets are what refreshing an exposure's dashboard takes: a Tableau
// workbook's extracts, a Power BI report's dataset. Each starts skipped.
func targets(e exposureJSON) []refreshJSON {
	var out []refreshJSON
	for _, x := range e.Extracts {
		out = append(out, refreshJSON{Exposure: e.Name, WorkbookID: e.WorkbookID, TargetType: x.Type, TargetID: x.ID, TargetName: x.Name, Action: actionSkipped})
	}
	for _, d := range e.Datasets {
		out = append(out, refreshJSON{Exposure: e.Name, ReportID: e.ReportID, TargetType: targetPowerBIDataset, TargetID: d.ID, TargetName: d.Name,
			WorkspaceID: d.WorkspaceID, Action: actionSkipped})
	}
	return out
}

func anyIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

// refresher starts and follows refreshes in one BI tool.
type refresher interface {
	tool() string
	start(ctx context.Context, r *refreshJSON) error // sets r.jobID
	// status reports whether the job ended, and when it did, why it failed ("" if it did not).
	status(ctx context.Context, r *refreshJSON) (done bool, failure string, err error)
}

// runRefreshes starts every planned refresh (Action "") of its tool, then
// polls their jobs until all finish or the timeout passes. One failure does
// not stop the others.
func (s *Server) runRefreshes(ctx context.Context, rf refresher, rs []*refreshJSON) {
	pending := map[*refreshJSON]bool{}
	for _, r := range rs {
		if err := rf.start(ctx, r); err != nil {
			r.Action, r.Reason = actionFailed, rf.tool()+" refused the refresh: "+err.Error()
			continue
		}
		pending[r] = true
	}
	deadline := time.Now().Add(s.refreshTimeout)
	for len(pending) > 0 {
		for r := range pending {
			done, failure, err := rf.status(ctx, r)
			if err != nil {
				r.Reason = "reading the " + rf.tool() + " job failed: " + err.Error() // kept if it never recovers
				continue
			}
			if !done {
				continue
			}
			delete(pending, r)
			r.Action, r.Reason = actionRefreshed, ""
			if failure != "" {
				r.Action, r.Reason = actionFailed, failure
			}
		}
		if len(pending) == 0 || !s.waitPoll(ctx, deadline) {
			break
		}
	}
	for r := range pending {
		r.Action = actionFailed
		r.Reason = fmt.Sprintf("%s job %s did not finish within %s (--refresh-timeout)%s", rf.tool(), r.jobID, s.refreshTimeout, suffix(r.Reason))
	}
}

// tableauRefresher refreshes extracts through Tableau's jobs.
type tableauRefresher struct{ c *tableau.Client }

func (t tableauRefresher) tool() string { return "Tableau" }

func (t tableauRefresher) start(ctx context.Context, r *refreshJSON) error {
	job, err := t.c.RefreshExtract(ctx, r.TargetType, r.TargetID)
	if err != nil {
		return err
	}
	r.jobID, r.TableauJobID = job.ID, job.ID
	return nil
}

func (t tableauRefresher) status(ctx context.Context, r *refreshJSON) (bool, string, error) {
	job, err := t.c.GetJob(ctx, r.jobID)
	if err != nil || !job.Done() {
		return false, "", err
	}
	if !job.Succeeded() {
		return true, "Tableau job " + job.Outcome(), nil
	}
	return true, "", nil
}

// powerbiRefresher refreshes datasets and follows their refresh history.
type powerbiRefresher struct{ c *powerbi.Client }

func (p powerbiRefresher) tool() string { return "Power BI" }

func (p powerbiRefresher) start(ctx context.Context, r *refreshJSON) error {
	id, err := p.c.RefreshDataset(ctx, r.WorkspaceID, r.TargetID)
	if err != nil {
		return err
	}
	r.jobID, r.RequestID = id, id
	return nil
}

func (p powerbiRefresher) status(ctx context.Context, r *refreshJSON) (bool, string, error) {
	got, err := p.c.RefreshStatus(ctx, r.WorkspaceID, r.TargetID, r.jobID)
	if err != nil || got == nil || !got.Done() {
		return false, "", err
	}
	if !got.Succeeded() {
		return true, fmt.Sprintf("Power BI refresh %s ended %s%s", r.jobID, got.Status, suffix(got.Exception)), nil
	}
	return true, "", nil
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// waitPoll waits one poll interval; false when the deadline or ctx comes first.
func (s *Server) waitPoll(ctx context.Context, deadline time.Time) bool {
	d := s.refreshPoll
	if left := time.Until(deadline); left < d {
		d = left
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return time.Now().Before(deadline)
	}
}
