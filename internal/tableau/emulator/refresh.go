package emulator

import (
	"fmt"
	"net/http"
	"time"
)

// RefreshJob is an extract refresh the emulator runs: it finishes after a few polls,
// successfully unless its target was set to fail.
type RefreshJob struct {
	ID         string
	TargetType string // "datasource" or "workbook"
	TargetID   string
	TargetName string
	CreatedAt  time.Time
	polls      int
	failure    string // Tableau's message when the refresh fails
}

// DefaultJobPolls is how many polls a refresh job takes to finish.
const DefaultJobPolls = 2

// FailRefreshes makes every refresh of the target (a data source or workbook
// LUID) fail with message, as a refresh whose warehouse credentials expired does.
func (e *Emulator) FailRefreshes(targetID, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failRefresh == nil {
		e.failRefresh = map[string]string{}
	}
	e.failRefresh[targetID] = message
}

// Refreshes lists the refresh jobs started so far, oldest first.
func (e *Emulator) Refreshes() []RefreshJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RefreshJob, 0, len(e.jobOrder))
	for _, id := range e.jobOrder {
		out = append(out, *e.jobs[id])
	}
	return out
}

// startRefresh answers POST .../datasources/{id}/refresh and .../workbooks/{id}/refresh
// with the job, as Tableau's REST API does (202). e.mu is held.
func (e *Emulator) startRefresh(w http.ResponseWriter, kind, id string) {
	name, hasExtracts, ok := e.refreshTarget(kind, id)
	if !ok {
		writeError(w, http.StatusNotFound, "404004", "Resource Not Found", fmt.Sprintf("The %s '%s' could not be found.", kind, id))
		return
	}
	if !hasExtracts {
		writeError(w, http.StatusBadRequest, "400000", "Bad Request", fmt.Sprintf("The %s '%s' has no extract to refresh.", kind, id))
		return
	}
	j := &RefreshJob{ID: newLUID(), TargetType: kind, TargetID: id, TargetName: name, CreatedAt: time.Now().UTC(), failure: e.failRefresh[id]}
	if e.jobs == nil {
		e.jobs = map[string]*RefreshJob{}
	}
	e.jobs[j.ID] = j
	e.jobOrder = append(e.jobOrder, j.ID)
	writeJSON(w, http.StatusAccepted, map[string]any{"job": map[string]any{
		"id": j.ID, "mode": "Asynchronous", "type": "RefreshExtract", "createdAt": j.CreatedAt.Format(time.RFC3339),
		"extractRefreshJob": map[string]any{kind: map[string]any{"id": id, "name": name}},
	}})
}

func (e *Emulator) refreshTarget(kind, id string) (name string, hasExtracts, ok bool) {
	if kind == "datasource" {
		d := e.site.datasources[id]
		if d == nil {
			return "", false, false
		}
		return d.Name, d.HasExtracts, true
	}
	wb := e.site.byID[id]
	if wb == nil {
		return "", false, false
	}
	return wb.Name, wb.EmbeddedExtracts, true
}

// getJob answers GET .../jobs/{id}: running (progress 0, no finishCode) for
// the first polls, then finished with finishCode 0, or 1 and Tableau's notes
// when it failed. e.mu is held.
func (e *Emulator) getJob(w http.ResponseWriter, id string) {
	j := e.jobs[id]
	if j == nil {
		writeError(w, http.StatusNotFound, "404005", "Resource Not Found", "Job '"+id+"' could not be found.")
		return
	}
	j.polls++
	out := map[string]any{"id": j.ID, "mode": "Asynchronous", "type": "RefreshExtract", "progress": "0",
		"createdAt": j.CreatedAt.Format(time.RFC3339), "startedAt": j.CreatedAt.Format(time.RFC3339)}
	polls := e.JobPolls
	if polls <= 0 {
		polls = DefaultJobPolls
	}
	if j.polls >= polls {
		out["progress"], out["completedAt"], out["finishCode"] = "100", time.Now().UTC().Format(time.RFC3339), "0"
		if j.failure != "" {
			out["finishCode"] = "1"
			out["extractRefreshJob"] = map[string]any{"notes": j.failure}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": out})
}

func newLUID() string {
	t := newToken()
	return t[:8] + "-" + t[8:12] + "-4" + t[13:16] + "-8" + t[17:20] + "-" + t[20:32]
}
