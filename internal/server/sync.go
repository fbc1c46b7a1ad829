package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// exposureJSON is an exposure as GET .../exposures/ returns it.
type exposureJSON struct {
	Name        string            `json:"name"`
	Label       string            `json:"label"`
	Type        string            `json:"type"`
	URL         string            `json:"url"`
	Maturity    string            `json:"maturity,omitempty"`
	Owner       map[string]string `json:"owner"`
	Description string            `json:"description"`
	DependsOn   []string          `json:"depends_on"`
	Tool        string            `json:"tool"` // tableau or powerbi
	WorkbookID  string            `json:"tableau_workbook_id,omitempty"`
	ProjectPath string            `json:"tableau_project_path,omitempty"`
	ReportID    string            `json:"powerbi_report_id,omitempty"`
	Workspace   string            `json:"powerbi_workspace,omitempty"`
	Tags        []string          `json:"tags"`
	Extracts    []extractJSON     `json:"tableau_extracts,omitempty"`
	// Datasets are what refreshing a Power BI report's data takes.
	Datasets []datasetJSON `json:"powerbi_datasets,omitempty"`
	// DependsOnIDs are the dbt unique IDs of depends_on, which active
	// exposure runs match against run results.
	DependsOnIDs []string `json:"depends_on_unique_ids"`
}

// extractJSON is an extract a refresh of the exposure's dashboard rebuilds.
type extractJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// datasetJSON is the Power BI dataset (semantic model) a report reads.
type datasetJSON struct {
	WorkspaceID string `json:"workspace_id"`
	ID          string `json:"id"`
	Name        string `json:"name"`
}

type unmatchedJSON struct {
	WorkbookID string `json:"workbook_id,omitempty"`
	ReportID   string `json:"powerbi_report_id,omitempty"`
	Table      string `json:"table"`
}

// syncer runs exposure syncs in the background: at most one per project at a
// time, and a request made during a sync runs once more after it.
type syncer struct {
	mu      sync.Mutex
	running map[int64]bool
	again   map[int64]bool
	locks   map[int64]*sync.Mutex
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

func newSyncer() *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	return &syncer{running: map[int64]bool{}, again: map[int64]bool{}, locks: map[int64]*sync.Mutex{}, ctx: ctx, cancel: cancel}
}

func (y *syncer) lock(projectID int64) *sync.Mutex {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.locks[projectID] == nil {
		y.locks[projectID] = &sync.Mutex{}
	}
	return y.locks[projectID]
}

// triggerSync schedules a sync of the project without waiting for it.
func (s *Server) triggerSync(accountID, projectID int64) {
	y := s.sync
	y.mu.Lock()
	if y.ctx.Err() != nil {
		y.mu.Unlock()
		return
	}
	if y.running[projectID] {
		y.again[projectID] = true
		y.mu.Unlock()
		return
	}
	y.running[projectID] = true
	y.wg.Add(1)
	y.mu.Unlock()
	go s.syncLoop(accountID, projectID)
}

// syncLoop syncs the project until no further sync was asked for meanwhile,
// each sync in one of the account's slots for heavy work.
func (s *Server) syncLoop(accountID, projectID int64) {
	y := s.sync
	defer y.wg.Done()
	for {
		if release, err := s.heavy.acquire(y.ctx, accountID); err == nil {
			if err := s.syncProject(y.ctx, accountID, projectID); err != nil {
				s.log.Warn("exposure sync failed", "project_id", projectID, "error", err.Error())
			}
			release()
		}
		y.mu.Lock()
		if y.again[projectID] && y.ctx.Err() == nil {
			y.again[projectID] = false
			y.mu.Unlock()
			continue
		}
		y.running[projectID] = false
		y.mu.Unlock()
		return
	}
}

// Run syncs every project with a manifest each interval until ctx ends (dbt
// Cloud syncs daily and whenever the selection changes). interval <= 0 disables it.
func (s *Server) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			projects, err := s.store.ProjectsWithManifest(ctx)
			if err != nil {
				s.log.Warn("listing projects to sync", "error", err.Error())
				continue
			}
			for _, p := range projects {
				s.triggerSync(p[0], p[1])
			}
		}
	}
}

// Close stops background syncs and waits for them.
func (s *Server) Close() {
	s.sync.cancel()
	s.sync.wg.Wait()
}

// syncProject regenerates a project's exposures from its manifest and the
// Tableau content its integration watches. A failure is recorded and the
// previous exposures are kept.
func (s *Server) syncProject(ctx context.Context, accountID, projectID int64) error {
	l := s.sync.lock(projectID)
	l.Lock()
	defer l.Unlock()
	err := s.generate(ctx, accountID, projectID)
	if err != nil && ctx.Err() == nil {
		if serr := s.store.SaveSyncError(context.Background(), projectID, err.Error()); serr != nil {
			return serr
		}
	}
	return err
}

func (s *Server) generate(ctx context.Context, accountID, projectID int64) error {
	raw, err := s.store.Manifest(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no dbt manifest uploaded for project %d: PUT target/manifest.json to /api/v3/accounts/%d/projects/%d/manifest/", projectID, accountID, projectID)
	}
	if err != nil {
		return err
	}
	manifest, err := exposures.LoadStored(raw)
	if err != nil {
		return err
	}
	dashboards, sources, datasets, err := s.watchedDashboards(ctx, accountID, projectID)
	if err != nil {
		return err
	}
	res := exposures.BuildDashboards(dashboards, exposures.NewIndex(manifest), exposures.Options{})
	yml, err := exposures.Render(res.Exposures, strings.Join(sources, " and "))
	if err != nil {
		return err
	}
	out := make([]exposureJSON, 0, len(res.Exposures))
	for _, e := range res.Exposures {
		out = append(out, toExposureJSON(e, datasets[e.ReportID]))
	}
	unmatched := make([]unmatchedJSON, 0, len(res.Unmatched))
	for _, u := range res.Unmatched {
		unmatched = append(unmatched, unmatchedJSON{WorkbookID: u.WorkbookID, ReportID: u.ReportID, Table: u.Table})
	}
	ej, _ := json.Marshal(out)
	uj, _ := json.Marshal(unmatched)
	return s.store.SaveSync(ctx, projectID, store.ExposureRecord{ExposuresJSON: string(ej), UnmatchedJSON: string(uj), YAML: string(yml), SyncedAt: store.Now()})
}

func extractsJSON(list []tableau.Extract) []extractJSON {
	out := make([]extractJSON, 0, len(list))
	for _, x := range list {
		out = append(out, extractJSON{Type: x.Type, ID: x.ID, Name: x.Name})
	}
	return out
}

// watched picks the workbooks the selection covers: watched dashboards, and
// every workbook in a watched folder or below it.
func watched(projects []tableau.Project, all []tableau.Workbook, watches map[string]store.Watch) []tableau.Workbook {
	parent := map[string]string{}
	for _, p := range projects {
		parent[p.ID] = p.ParentID
	}
	covered := func(projectID string) bool {
		seen := map[string]bool{}
		for id := projectID; id != "" && !seen[id]; id = parent[id] {
			seen[id] = true
			if w, ok := watches[id]; ok && w.Type == dbtcloud.ItemFolder {
				return true
			}
		}
		return false
	}
	var out []tableau.Workbook
	for _, w := range all {
		if _, ok := watches[w.ID]; ok || covered(w.ProjectID) {
			out = append(out, w)
		}
	}
	return out
}

func toExposureJSON(e exposures.Exposure, dataset *datasetJSON) exposureJSON {
	owner := map[string]string{}
	if e.OwnerName != "" {
		owner["name"] = e.OwnerName
	}
	if e.OwnerEmail != "" {
		owner["email"] = e.OwnerEmail
	}
	out := exposureJSON{Name: e.Name, Label: e.Label, Type: e.Type, URL: e.URL, Maturity: e.Maturity, Owner: owner,
		Description: e.Description, DependsOn: e.DependsOn, Tool: e.Tool, WorkbookID: e.WorkbookID, ProjectPath: e.ProjectPath,
		ReportID: e.ReportID, Workspace: e.Workspace, Tags: e.Tags, Extracts: extractsJSON(e.Extracts), DependsOnIDs: e.DependsOnIDs}
	if dataset != nil {
		out.Datasets = []datasetJSON{*dataset}
	}
	return out
}

// watchedDashboards reads what the project's integrations watch: Tableau
// workbooks (Metadata API) and Power BI reports (a scan), with where they came
// from and, per Power BI report ID, the dataset it reads.
func (s *Server) watchedDashboards(ctx context.Context, accountID, projectID int64) ([]exposures.Dashboard, []string, map[string]*datasetJSON, error) {
	list, _, err := s.store.ListIntegrations(ctx, accountID, projectID, 100, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		out      []exposures.Dashboard
		sources  []string
		datasets = map[string]*datasetJSON{}
	)
	for i := range list {
		in := &list[i]
		watches, err := s.store.Watches(ctx, in.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		switch in.Name {
		case toolTableau:
			sources = append(sources, fmt.Sprintf("Tableau site %q at %s", in.SiteID, in.Host))
			if len(watches) > 0 {
				projects, all, err := s.tableau.discover(ctx, in)
				if err != nil {
					return nil, nil, nil, err
				}
				out = append(out, exposures.Workbooks(watched(projects, all, watches))...)
			}
		case toolPowerBI:
			sources = append(sources, fmt.Sprintf("Power BI tenant %q", in.TenantID))
			if len(watches) > 0 {
				// The scan a selection change just made (or one within the TTL)
				// serves: a second scan would read the same tenant again.
				scan, err := s.powerbi.get(ctx, in, false)
				if err != nil {
					return nil, nil, nil, err
				}
				for _, f := range watchedReports(scan.result, watches) {
					out = append(out, f.Dashboard())
					datasets[f.Report.ID] = reportDataset(f)
				}
			}
		}
	}
	if len(sources) == 0 {
		sources = []string{"no BI integration"}
	}
	return out, sources, datasets, nil
}

// watchedReports picks the reports the selection covers: watched reports and
// every report of a watched workspace.
func watchedReports(res *powerbi.ScanResult, watches map[string]store.Watch) []powerbi.Found {
	return res.Reports(func(w *powerbi.Workspace, r *powerbi.Report) bool {
		_, report := watches[r.ID]
		ws, ok := watches[w.ID]
		return report || (ok && ws.Type == dbtcloud.ItemFolder)
	})
}

// reportDataset is the dataset a report reads, where the scan found it; nil
// for a report without one or whose dataset's workspace was not scanned.
func reportDataset(f powerbi.Found) *datasetJSON {
	if f.Dataset == nil {
		return nil
	}
	return &datasetJSON{WorkspaceID: f.DatasetWorkspaceID, ID: f.Dataset.ID, Name: f.Dataset.Name}
}
