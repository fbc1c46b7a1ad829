package tableau

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Tool is Tableau in the connector model.
var Tool = bi.NewTool(bi.ToolInfo{Name: "tableau", Label: "Tableau", Dashboard: "workbook", DashboardKey: "workbook_id", JobKey: "tableau_job_id"})

// Connector is Tableau's connector.
func Connector() bi.Connector {
	return bi.Spec{Is: Tool, Fields: configFields, Names: describe, Opens: open}
}

// configFields are the integration's config as dbt Cloud's API takes it.
var configFields = []bi.ConfigField{
	{Name: "host", Required: true, Check: CheckHost},
	// site_id may be "" (Tableau Server's default site); clients that drop
	// empty strings from JSON leave it out, which means the same.
	{Name: "site_id", Check: bi.Text(bi.MaxTextLen)},
	{Name: "token_name", Required: true, Check: bi.Text(bi.MaxTextLen)},
	{Name: "token", Secret: true, Required: true, Check: bi.Text(bi.MaxTokenLen)},
}

func describe(c bi.Config) string {
	return fmt.Sprintf("Tableau site %q at %s", c["site_id"], c["host"])
}

func open(c bi.Config, env bi.Env) (bi.Client, error) {
	cl, err := New(Config{Host: c["host"], Site: c["site_id"], TokenName: c["token_name"], TokenSecret: c["token"],
		UserAgent: env.UserAgent, Retry: env.Retry, Logger: env.Logger, Transport: env.Transport})
	if err != nil {
		return nil, err
	}
	return &integration{c: cl, cfg: c}, nil
}

// CheckHost accepts what a server may contact as Tableau: an RFC 1123 host
// name, or an http(s) URL made only of scheme, host and port.
func CheckHost(v string) error {
	if err := bi.CheckText(v, bi.MaxHostLen); err != nil {
		return err
	}
	if !strings.Contains(v, "://") {
		if !bi.IsHostName(v) {
			return fmt.Errorf("must be a host name such as 10az.online.tableau.com (letters, digits, hyphens and dots) or a URL such as https://tableau.example.com:8443")
		}
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("is not a valid URL: use https://host or https://host:port")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("must use http or https, not %q", u.Scheme)
	case u.User != nil:
		return fmt.Errorf("must not carry user information; send credentials as token_name and token")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return fmt.Errorf("must be only scheme, host and port, such as https://tableau.example.com:8443, without a path, query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has an invalid port %q", p)
		}
	}
	if h := u.Hostname(); net.ParseIP(h) == nil && !bi.IsHostName(h) {
		return fmt.Errorf("has an invalid host name %q", h)
	}
	return nil
}

// integration is one integration's Tableau client.
type integration struct {
	c   *Client
	cfg bi.Config
}

// Tree lists projects as folders and workbooks as dashboards, through REST.
func (i *integration) Tree(ctx context.Context) (*bi.Tree, error) { return i.c.Tree(ctx) }

// Dashboards reads the site's lineage (Metadata API), down to the columns
// the sheets use, and keeps the workbooks sel covers: watched ones, and
// every one in a watched project or below it.
func (i *integration) Dashboards(ctx context.Context, sel bi.Selection) ([]bi.Dashboard, error) {
	site, err := i.c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	cols, err := i.c.ListColumns(ctx)
	if err != nil {
		return nil, err
	}
	AttachColumns(site.Workbooks, cols)
	return Dashboards(Selected(site.Projects, site.Workbooks, sel)), nil
}

// Selected picks the workbooks sel covers.
func Selected(projects []Project, all []Workbook, sel bi.Selection) []Workbook {
	parent := make(map[string]string, len(projects))
	for _, p := range projects {
		parent[p.ID] = p.ParentID
	}
	covered := func(projectID string) bool {
		seen := map[string]bool{}
		for id := projectID; id != "" && !seen[id]; id = parent[id] {
			seen[id] = true
			if sel.Folders[id] {
				return true
			}
		}
		return false
	}
	var out []Workbook
	for _, w := range all {
		if sel.Dashboards[w.ID] || covered(w.ProjectID) {
			out = append(out, w)
		}
	}
	return out
}

// StartRefresh starts an extract refresh; the target's type is its extract kind.
func (i *integration) StartRefresh(ctx context.Context, t bi.Target) (string, error) {
	job, err := i.c.RefreshExtract(ctx, t.Type, t.ID)
	if err != nil {
		return "", err
	}
	return job.ID, nil
}

func (i *integration) RefreshStatus(ctx context.Context, _ bi.Target, job string) (bool, string, error) {
	j, err := i.c.GetJob(ctx, job)
	if err != nil || !j.Done() {
		return false, "", err
	}
	if !j.Succeeded() {
		return true, "Tableau job " + j.Outcome(), nil
	}
	return true, "", nil
}

// Explain names the config fields to change when Tableau refuses them.
func (i *integration) Explain(err error) bi.Failure {
	host := i.cfg["host"]
	if errors.Is(err, transport.ErrEgressRefused) {
		return bi.Failure{Refused: true, Message: fmt.Sprintf("Invalid field \"config.host\": the server does not connect to %s: %v", host, err)}
	}
	var te *Error
	if !errors.As(err, &te) {
		return bi.Failure{Message: fmt.Sprintf("Could not read Tableau at %s: %v", host, err)}
	}
	switch {
	case te.Code == "401001":
		return bi.Failure{Refused: true, Message: fmt.Sprintf("Tableau at %s refused the integration's personal access token %q for site %q (401001): update config.token_name and config.token, and check config.site_id.", te.Host, i.cfg["token_name"], i.cfg["site_id"])}
	case te.Status == http.StatusForbidden:
		return bi.Failure{Refused: true, Message: fmt.Sprintf("Tableau at %s does not let token %q read the site: %s", te.Host, i.cfg["token_name"], te.Error())}
	case te.Status == http.StatusNotFound:
		return bi.Failure{Refused: true, Message: fmt.Sprintf("Tableau at %s: %s. Check config.host and config.site_id.", te.Host, te.Error())}
	}
	return bi.Failure{Message: "Tableau failed: " + te.Error()}
}

func (i *integration) Close(ctx context.Context) error { return i.c.SignOut(ctx) }

// Client is the integration's Tableau client, for tests.
func (i *integration) Client() *Client { return i.c }

// extractMeta is an extract as an exposure's meta lists it.
type extractMeta struct {
	Type string `yaml:"type" json:"type"`
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// Dashboards are workbooks as the exposures core sees them.
func Dashboards(list []Workbook) []bi.Dashboard {
	out := make([]bi.Dashboard, len(list))
	for i := range list {
		out[i] = list[i].Dashboard()
	}
	return out
}

// Dashboard is the workbook as the exposures core sees it.
func (w *Workbook) Dashboard() bi.Dashboard {
	d := bi.Dashboard{Tool: Tool, ID: w.ID, Name: w.Name, URL: w.URL, Description: w.Description, OwnerName: w.OwnerName,
		OwnerEmail: w.OwnerEmail, Folder: w.ProjectPath, Tags: w.Tags}
	d.Tables = make([]bi.Table, len(w.UpstreamTables))
	for j, t := range w.UpstreamTables {
		d.Tables[j] = bi.Table{Database: t.Database, Schema: t.Schema, Name: t.Name, FullName: t.FullName}
	}
	d.CustomSQL = make([]bi.Query, len(w.CustomSQL))
	for j, q := range w.CustomSQL {
		d.CustomSQL[j] = bi.Query{SQL: q.Query, Database: q.Database}
	}
	meta := make([]extractMeta, len(w.Extracts))
	for j, x := range w.Extracts {
		d.Targets = append(d.Targets, bi.Target{Type: x.Type, ID: x.ID, Name: x.Name})
		meta[j] = extractMeta(x)
	}
	d.Meta = []bi.Field{{Key: "tableau_workbook_id", Value: w.ID}, {Key: "tableau_project_path", Value: w.ProjectPath},
		{Key: "tableau_extracts", Value: meta}}
	if w.Columns != nil {
		d.Columns = make([]bi.Column, len(w.Columns))
		for j, c := range w.Columns {
			t := c.Table
			d.Columns[j] = bi.Column{Table: bi.Table{Database: t.Database, Schema: t.Schema, Name: t.Name, FullName: t.FullName}, Name: c.Name, Derived: c.Derived}
		}
		d.UnresolvedColumns = w.UnresolvedColumns
	}
	return d
}
