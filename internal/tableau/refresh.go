package tableau

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Job is a Tableau background job, such as an extract refresh.
type Job struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Progress    string `json:"progress"`
	CreatedAt   string `json:"createdAt"`
	CompletedAt string `json:"completedAt"`
	FinishCode  string `json:"finishCode"` // "" while running, "0" success, "1" failed, "2" cancelled
	Detail      struct {
		Notes string `json:"notes"`
	} `json:"extractRefreshJob"`
}

// Done reports whether the job finished, and Succeeded whether it went well.
func (j *Job) Done() bool      { return j.FinishCode != "" }
func (j *Job) Succeeded() bool { return j.FinishCode == "0" }

// Outcome describes a finished job's result for people.
func (j *Job) Outcome() string {
	switch j.FinishCode {
	case "0":
		return "succeeded"
	case "2":
		return "was cancelled"
	}
	if j.Detail.Notes != "" {
		return "failed: " + j.Detail.Notes
	}
	return "failed (finish code " + j.FinishCode + ")"
}

// Extract kinds a refresh targets.
const (
	ExtractDatasource = "datasource" // a published data source with extracts
	ExtractWorkbook   = "workbook"   // a workbook's embedded extracts
)

// RefreshExtract starts refreshing a data source's or a workbook's extracts
// and returns the job. Starting a refresh is not sent twice blindly: the
// transport does not resend it. It is repeated only after Tableau answers that
// the session ended (401002), because Tableau refused it then before acting.
func (c *Client) RefreshExtract(ctx context.Context, kind, id string) (*Job, error) {
	if kind != ExtractDatasource && kind != ExtractWorkbook {
		return nil, fmt.Errorf("extract kind %q is neither %q nor %q", kind, ExtractDatasource, ExtractWorkbook)
	}
	ctx = transport.NotIdempotent(ctx)
	return c.job(ctx, http.MethodPost, kind+"s", id, "refresh")
}

// GetJob reads a job's state.
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	return c.job(ctx, http.MethodGet, "jobs", id)
}

func (c *Client) job(ctx context.Context, method string, path ...string) (*Job, error) {
	var body any
	if method == http.MethodPost {
		body = map[string]any{}
	}
	resp, raw, err := c.authed(ctx, restAPI, func(s *session, v string, server *url.URL) (*http.Response, []byte, error) {
		u := server.JoinPath(append([]string{"api", v, "sites", s.siteID}, path...)...)
		return c.send(ctx, method, u.String(), body, s.token)
	})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return nil, c.apiError(resp.Request.URL.Host, resp.StatusCode, raw)
	}
	var ans struct {
		Job *Job `json:"job"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Job == nil || ans.Job.ID == "" {
		return nil, fmt.Errorf("Tableau at %s: the answer has no job: %s", resp.Request.URL.Host, strconv.Quote(string(raw[:min(len(raw), 200)])))
	}
	return ans.Job, nil
}
