package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
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

// startRefresh answers POST .../datasources/{id}/refresh and
// .../workbooks/{id}/refresh with the job, as Tableau's REST API does (202).
// e.mu is held.
func (e *Emulator) startRefresh(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		name, hasExtracts, ok := e.refreshTarget(kind, id)
		if !ok {
			e.answerError(w, r, http.StatusNotFound, "404004", "Resource Not Found", fmt.Sprintf("The %s '%s' could not be found.", kind, id))
			return
		}
		if !hasExtracts {
			e.answerError(w, r, http.StatusBadRequest, "400000", "Bad Request", fmt.Sprintf("The %s '%s' has no extract to refresh.", kind, id))
			return
		}
		j := &RefreshJob{ID: newLUID(), TargetType: kind, TargetID: id, TargetName: name, CreatedAt: time.Now().UTC(), failure: e.failRefresh[id]}
		if e.jobs == nil {
			e.jobs = map[string]*RefreshJob{}
		}
		e.jobs[j.ID] = j
		e.jobOrder = append(e.jobOrder, j.ID)
		e.answer(w, r, http.StatusAccepted, elem("job", "id", j.ID, "mode", "Asynchronous", "type", "RefreshExtract",
			"createdAt", j.CreatedAt.Format(time.RFC3339)).add(
			elem("extractRefreshJob").add(elem(kind, "id", id, "name", name))))
	}
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
// when it failed. The fixture's jobs answer as they were recorded. e.mu is held.
func (e *Emulator) getJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if j := e.jobs[id]; j != nil {
		j.polls++
		e.answer(w, r, http.StatusOK, e.jobEl(e.refreshState(j)))
		return
	}
	if j := e.site.jobs[id]; j != nil {
		e.answer(w, r, http.StatusOK, e.jobEl(j))
		return
	}
	e.answerError(w, r, http.StatusNotFound, "404005", "Resource Not Found", "Job '"+id+"' could not be found.")
}

// refreshState is a refresh job as a fixture job, at its latest poll.
func (e *Emulator) refreshState(j *RefreshJob) *FixtureJob {
	created := j.CreatedAt.Format(time.RFC3339)
	out := &FixtureJob{ID: j.ID, Type: "RefreshExtract", Progress: "0", CreatedAt: created, StartedAt: created,
		UpdatedAt: created, TargetType: j.TargetType, TargetID: j.TargetID}
	polls := e.JobPolls
	if polls <= 0 {
		polls = DefaultJobPolls
	}
	if j.polls >= polls {
		out.Progress, out.CompletedAt, out.FinishCode = "100", time.Now().UTC().Format(time.RFC3339), "0"
		out.UpdatedAt = out.CompletedAt
		if j.failure != "" {
			out.FinishCode, out.Notes = "1", j.failure
		}
	}
	return out
}

// jobDetails names the element holding a job's details, by its type.
var jobDetails = map[string]string{"RefreshExtract": "extractRefreshJob", "UpdateUploadedFile": "updateUploadedFileJob"}

func (e *Emulator) jobEl(j *FixtureJob) *el {
	x := elem("job", "id", j.ID, "mode", "Asynchronous", "type", j.Type, "progress", j.Progress, "createdAt", j.CreatedAt).
		attr("startedAt", j.StartedAt).attr("updatedAt", j.UpdatedAt).attr("completedAt", j.CompletedAt).attr("finishCode", j.FinishCode)
	detail := elem(jobDetails[j.Type])
	if name, _, ok := e.refreshTarget(j.TargetType, j.TargetID); ok {
		detail.add(elem(j.TargetType, "id", j.TargetID, "name", name))
	}
	if j.ConnectionLUID != "" {
		detail.add(textEl("connectionLuid", j.ConnectionLUID))
	}
	if j.Notes != "" {
		detail.add(textEl("notes", j.Notes))
	}
	if detail.name != "" {
		x.add(detail)
	}
	if len(j.StatusNotes) > 0 {
		var notes []*el
		for _, n := range j.StatusNotes {
			notes = append(notes, elem("statusNote", "type", n.Type, "value", n.Value, "text", n.Text))
		}
		x.add(listEl("statusNotes", notes))
	}
	return x
}

// listJobs answers GET .../jobs: the site's background jobs, newest first.
// Listing does not advance a refresh. e.mu is held.
func (e *Emulator) listJobs(w http.ResponseWriter, r *http.Request) {
	size, number, _, ok := e.listPage(w, r)
	if !ok {
		return
	}
	var all []*FixtureJob
	for _, id := range e.jobOrder {
		all = append(all, e.refreshState(e.jobs[id]))
	}
	for i := range e.site.fixture.Jobs {
		all = append(all, &e.site.fixture.Jobs[i])
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt > all[j].CreatedAt })
	var items []*el
	for _, j := range page(all, size, number) {
		items = append(items, elem("backgroundJob", "id", j.ID, "status", jobStatus(j), "createdAt", j.CreatedAt).
			attr("startedAt", j.StartedAt).attr("endedAt", j.CompletedAt).attr("priority", "50").
			attr("jobType", strings.ToLower(j.Type)))
	}
	e.answer(w, r, http.StatusOK, paginationEl(size, number, len(all)), listEl("backgroundJobs", items))
}

func jobStatus(j *FixtureJob) string {
	switch j.FinishCode {
	case "":
		return "InProgress"
	case "0":
		return "Success"
	case "2":
		return "Cancelled"
	}
	return "Failed"
}

func newLUID() string {
	t := newToken()
	return t[:8] + "-" + t[8:12] + "-4" + t[13:16] + "-8" + t[17:20] + "-" + t[20:32]
}
