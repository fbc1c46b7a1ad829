package powerbi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Tool is Power BI in the connector model.
var Tool = bi.NewTool(bi.ToolInfo{Name: "powerbi", Label: "Power BI", Dashboard: "report", DashboardKey: "powerbi_report_id",
	JobKey: "powerbi_request_id", ScopeKey: "powerbi_workspace_id", DatasetColumns: true})

// Operator settings a program passes in bi.Env.Settings.
const (
	SettingAPIURL       = "api_url"       // Power BI's REST API, for sovereign clouds or the emulator
	SettingLoginURL     = "login_url"     // Entra ID
	SettingPollInterval = "poll_interval" // first wait between scanStatus polls, a Go duration
)

// Connector is Power BI's connector.
func Connector() bi.Connector {
	return bi.Spec{Is: Tool, Fields: configFields, Names: describe, Opens: open}
}

// configFields are the integration's config. dbt Cloud has not published
// Power BI's; this is dbtexposures-server's contract until it does.
var configFields = []bi.ConfigField{
	{Name: "tenant_id", Required: true, Check: CheckTenant},
	{Name: "client_id", Required: true, Check: bi.Text(bi.MaxTextLen)},
	{Name: "client_secret", Secret: true, Required: true, Check: bi.Text(bi.MaxTokenLen)},
}

func describe(c bi.Config) string { return fmt.Sprintf("Power BI tenant %q", c["tenant_id"]) }

func open(c bi.Config, env bi.Env) (bi.Client, error) {
	poll, _ := time.ParseDuration(env.Settings[SettingPollInterval])
	cl, err := New(Config{TenantID: c["tenant_id"], ClientID: c["client_id"], ClientSecret: c["client_secret"],
		APIURL: env.Settings[SettingAPIURL], LoginURL: env.Settings[SettingLoginURL], PollInterval: poll,
		Retry: env.Retry, Logger: env.Logger, Transport: env.Transport})
	if err != nil {
		return nil, err
	}
	return &integration{c: cl, cfg: c, reuse: env.ReuseFor}, nil
}

// CheckTenant accepts an Entra ID tenant as Power BI's token URL takes it: a
// directory ID (GUID) or a domain such as contoso.onmicrosoft.com.
func CheckTenant(v string) error {
	if err := bi.CheckText(v, bi.MaxHostLen); err != nil {
		return err
	}
	if !bi.IsHostName(v) {
		return fmt.Errorf("must be the Entra ID tenant (directory) ID, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47, or its domain, e.g. contoso.onmicrosoft.com")
	}
	return nil
}

// integration is one integration's Power BI client, with its last scan.
type integration struct {
	c     *Client
	cfg   bi.Config
	reuse time.Duration

	mu      sync.Mutex
	last    *ScanResult
	scanned time.Time
}

// scan scans the tenant, or reuses the last scan when younger than the reuse
// window (a selection change has usually just made one).
func (i *integration) scan(ctx context.Context, reuse bool) (*ScanResult, error) {
	i.mu.Lock()
	last, at := i.last, i.scanned
	i.mu.Unlock()
	if reuse && last != nil && time.Since(at) < i.reuse {
		return last, nil
	}
	ids, err := i.c.ModifiedWorkspaces(ctx)
	if err != nil {
		return nil, err
	}
	res, err := i.c.Scan(ctx, ids)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	i.last, i.scanned = res, time.Now()
	i.mu.Unlock()
	return res, nil
}

// Tree scans the tenant: workspaces at the top, each with its reports.
func (i *integration) Tree(ctx context.Context) (*bi.Tree, error) {
	res, err := i.scan(ctx, false)
	if err != nil {
		return nil, err
	}
	return res.Tree(), nil
}

// Top lists the workspaces through admin/groups, without a scan.
func (i *integration) Top(ctx context.Context) (*bi.Tree, error) {
	groups, err := i.c.Groups(ctx)
	if err != nil {
		return nil, err
	}
	t := bi.NewTree()
	for _, g := range groups {
		t.Folders[g.ID] = g.Name
		t.Children[""] = append(t.Children[""], g.ID)
	}
	t.SortByName()
	return t, nil
}

// Dashboards are the watched reports and every report of a watched workspace.
func (i *integration) Dashboards(ctx context.Context, sel bi.Selection) ([]bi.Dashboard, error) {
	res, err := i.scan(ctx, true)
	if err != nil {
		return nil, err
	}
	found := res.Reports(func(w *Workspace, r *Report) bool { return sel.Dashboards[r.ID] || sel.Folders[w.ID] })
	out := make([]bi.Dashboard, len(found))
	for j, f := range found {
		out[j] = f.Dashboard()
	}
	return out, nil
}

// StartRefresh refreshes a dataset; the target's scope is its workspace.
func (i *integration) StartRefresh(ctx context.Context, t bi.Target) (string, error) {
	return i.c.RefreshDataset(ctx, t.Scope, t.ID)
}

func (i *integration) RefreshStatus(ctx context.Context, t bi.Target, job string) (bool, string, error) {
	got, err := i.c.RefreshStatus(ctx, t.Scope, t.ID, job)
	if err != nil || got == nil || !got.Done() {
		return false, "", err
	}
	if !got.Succeeded() {
		msg := fmt.Sprintf("Power BI refresh %s ended %s", job, got.Status)
		if got.Exception != "" {
			msg += "; " + got.Exception
		}
		return true, msg, nil
	}
	return true, "", nil
}

// Explain names the integration's settings when Power BI refuses them.
func (i *integration) Explain(err error) bi.Failure {
	if errors.Is(err, transport.ErrEgressRefused) {
		return bi.Failure{Message: fmt.Sprintf("The server may not connect to Power BI: %v. Allow the Power BI API and login hosts in the server's egress rules.", err)}
	}
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Status == http.StatusBadRequest || pe.Status == http.StatusUnauthorized || pe.Status == http.StatusForbidden {
			return bi.Failure{Refused: true, Message: fmt.Sprintf("Power BI refused the integration (tenant_id %q, client_id %q): %s", i.cfg["tenant_id"], i.cfg["client_id"], pe.Error())}
		}
		return bi.Failure{Message: "Power BI failed: " + pe.Error()}
	}
	return bi.Failure{Message: fmt.Sprintf("Could not scan Power BI tenant %q: %v", i.cfg["tenant_id"], err)}
}

// Close has nothing to end: Entra ID tokens simply expire.
func (i *integration) Close(context.Context) error { return nil }
