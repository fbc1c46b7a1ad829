package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Environment variables for the provider's tableau settings.
const (
	EnvTableauHost      = "TABLEAU_HOST"
	EnvTableauSiteID    = "TABLEAU_SITE_ID"
	EnvTableauTokenName = "TABLEAU_TOKEN_NAME"
	EnvTableauToken     = "TABLEAU_TOKEN"
)

// tableauSource is the provider process's Tableau connection: one client, so
// one session, and each listing read at most once per process.
type tableauSource struct {
	client *tableau.Client
	sourceState

	mu        sync.Mutex // guards failure
	projects  lazy[[]tableau.Project]
	workbooks lazy[[]tableau.Workbook]
	tree      lazy[*bi.Tree]
	columns   lazy[map[string]*tableau.WorkbookColumns]
	failure   error // a read that failed: not tried again in this process
}

// tableauBlock is the provider's tableau settings.
var tableauBlock = toolBlock{name: "tableau", label: tableau.Tool.Label, envPrefix: "TABLEAU_",
	desc: "Where the discovery data sources read Tableau, directly (REST sign-in with a personal access token, " +
		"then the Metadata API). Only the `dbtexposures_tableau_*` and `dbtexposures_exposures` data sources need it. " +
		"Each value falls back to an environment variable.",
	settings: []setting{
		{attr: "host", env: EnvTableauHost, required: true, desc: "Tableau host: a bare host name such as `10az.online.tableau.com` (HTTPS), " +
			"or a URL with scheme and port such as `http://127.0.0.1:8485`."},
		{attr: "site_id", env: EnvTableauSiteID, emptyWins: true, desc: "Site content URL (the part after `/site/` in Tableau's URLs); " +
			"`\"\"` for Tableau Server's default site."},
		{attr: "token_name", env: EnvTableauTokenName, required: true, desc: "Personal access token name. Use a token of its own here, " +
			"not the one the dbt Cloud connection uses: Tableau keeps one session per token, so a sign-in elsewhere ends the " +
			"provider's session (it signs in again, a bounded number of times)."},
		{attr: "token", env: EnvTableauToken, required: true, sensitive: true, desc: "Personal access token secret."},
	}}

func newTableauSource(_ context.Context, obj types.Object, retry transport.RetryConfig, userAgent string, diags *diag.Diagnostics) *tableauSource {
	v, why := tableauBlock.read(obj, diags)
	if why != "" {
		return &tableauSource{sourceState: sourceState{why}}
	}
	if diags.HasError() {
		return &tableauSource{sourceState: sourceState{"the tableau settings are incomplete"}}
	}
	client, err := tableau.New(tableau.Config{Host: v["host"], Site: v["site_id"], TokenName: v["token_name"], TokenSecret: v["token"],
		Retry: retry, UserAgent: userAgent, Logger: clientLogger})
	if err != nil {
		diags.AddAttributeError(path.Root("tableau").AtName("host"), "Invalid Tableau settings", err.Error())
		return &tableauSource{sourceState: sourceState{err.Error()}}
	}
	registerTableau(client)
	return &tableauSource{client: client}
}

// Projects lists the site's projects once per provider process.
func (s *tableauSource) Projects(ctx context.Context) ([]tableau.Project, error) {
	return load(ctx, s, &s.projects, s.client.ListProjects)
}

// Tree is the site's projects and workbooks as a connection's collections
// show them, read through REST once per provider process.
func (s *tableauSource) Tree(ctx context.Context) (*bi.Tree, error) {
	return load(ctx, s, &s.tree, s.client.Tree)
}

// lazy is a value read once per provider process. Its own lock is held
// while it is read, so the data sources of a run share one read, and two
// different values (the workbooks and their columns) are read at once.
type lazy[T any] struct {
	mu sync.Mutex
	v  T
	ok bool
}

// load answers l, reading it the first time; a failure is remembered for
// the run.
func load[T any](ctx context.Context, s *tableauSource, l *lazy[T], read func(context.Context) (T, error)) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := s.failed(); err != nil {
		var zero T
		return zero, err
	}
	if !l.ok {
		v, err := read(ctx)
		if err != nil {
			s.remember(ctx, err)
			return v, err
		}
		l.v, l.ok = v, true
	}
	return l.v, nil
}

func (s *tableauSource) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// remember keeps a failure, so the other data sources of the run do not ask
// Tableau again only to fail the same way.
func (s *tableauSource) remember(ctx context.Context, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() == nil && s.failure == nil {
		s.failure = err
	}
}

// report adds the diagnostic of a failed read. Each data source's error says
// what to fix: Terraform, not the provider, decides which is printed first.
func (s *tableauSource) report(action string, err error, diags *diag.Diagnostics) {
	diags.Append(diagnostics.Tableau(action, s.client.Host(), err))
}

// Workbooks reads every workbook with its lineage once per provider process.
func (s *tableauSource) Workbooks(ctx context.Context) ([]tableau.Project, []tableau.Workbook, error) {
	projects, err := s.Projects(ctx)
	if err != nil {
		return nil, nil, err
	}
	wbs, err := load(ctx, s, &s.workbooks, func(ctx context.Context) ([]tableau.Workbook, error) {
		return s.client.ListWorkbooks(ctx, projects)
	})
	if err != nil {
		return nil, nil, err
	}
	return projects, wbs, nil
}

// FilteredWorkbooksWithColumns is FilteredWorkbooks; with columns, each
// workbook also has the columns its sheets use (a workbook whose upstream
// tables Tableau left empty gets its columns' tables), read once per
// provider process at the same time as the workbooks.
func (s *tableauSource) FilteredWorkbooksWithColumns(ctx context.Context, f workbookFilterModel, columns bool, diags *diag.Diagnostics) []tableau.Workbook {
	if !columns {
		return s.FilteredWorkbooks(ctx, f, diags)
	}
	var cols map[string]*tableau.WorkbookColumns
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cols, err = load(ctx, s, &s.columns, s.client.ListColumns)
	}()
	wbs := s.FilteredWorkbooks(ctx, f, diags)
	<-done
	if diags.HasError() {
		return nil
	}
	if err != nil {
		s.report("read the columns of Tableau workbooks", err, diags)
		return nil
	}
	tableau.AttachColumns(wbs, cols)
	return wbs
}

// tableauFrom is the Tableau source for a data source, adding an error when the
// provider has no Tableau settings. It returns nil while unconfigured.
func tableauFrom(data any, diags *diag.Diagnostics) *tableauSource {
	return configuredSource(data, diags, tableau.Tool.Label, func(pd *providerData) *tableauSource { return pd.tableau })
}

// tableauData is a Tableau data source's shared part.
func tableauData(typeName string) toolDataSource[*tableauSource] {
	return toolDataSource[*tableauSource]{typeName: typeName, from: tableauFrom}
}
