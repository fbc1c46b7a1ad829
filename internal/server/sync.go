package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// exposureJSON is an exposure as GET .../exposures/ answers it: dbt's
// fields, the tool's own fields beside them (tableau_workbook_id,
// powerbi_datasets, …), and what a refresh of its dashboard rebuilds.
type exposureJSON struct {
	Name        string            `json:"name"`
	Label       string            `json:"label"`
	Type        string            `json:"type"`
	URL         string            `json:"url"`
	Maturity    string            `json:"maturity,omitempty"`
	Owner       map[string]string `json:"owner"`
	Description string            `json:"description"`
	DependsOn   []string          `json:"depends_on"`
	Tool        string            `json:"tool"`
	Tags        []string          `json:"tags"`
	// DependsOnIDs are the dbt unique IDs of depends_on, which active
	// exposure runs match against run results.
	DependsOnIDs []string `json:"depends_on_unique_ids"`
	DashboardID  string   `json:"dashboard_id"`
	// RefreshTargets are what refreshing the dashboard's data rebuilds; nil
	// in exposures stored by versions before them.
	RefreshTargets []bi.Target `json:"refresh_targets"`
	// UnmatchedColumns are columns the dashboard uses that its dbt nodes lack.
	UnmatchedColumns []unmatchedColumnJSON `json:"unmatched_columns,omitempty"`
	meta             []bi.Field
}

// unmatchedColumnJSON is a column a dashboard uses that a dbt node lacks.
type unmatchedColumnJSON struct {
	Node   string `json:"node"`
	Column string `json:"column"`
}

// MarshalJSON writes the tool's fields after the others.
func (e exposureJSON) MarshalJSON() ([]byte, error) {
	type plain exposureJSON
	return withFields(plain(e), e.meta)
}

// withFields marshals v, an object, with fields after its own (empty values
// left out), in one marshal of each.
func withFields(v any, fields []bi.Field) ([]byte, error) {
	obj, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	more, err := json.Marshal(bi.Record("json", fields))
	if err != nil || len(more) <= 2 {
		return obj, err
	}
	if len(obj) <= 2 {
		return more, nil
	}
	return append(append(obj[:len(obj)-1:len(obj)-1], ','), more[1:]...), nil
}

// marshalEach writes the exposures as a JSON array, each by its own
// MarshalJSON called directly: encoding/json would re-read and compact every
// one, which costs as much as writing it.
func marshalEach(list []exposureJSON) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		raw, err := list[i].MarshalJSON()
		if err != nil {
			return nil, err
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// unmatchedJSON is a table a dashboard reads that is no dbt node, with the
// dashboard's ID under the tool's key (workbook_id, powerbi_report_id).
type unmatchedJSON struct {
	Tool        bi.Tool
	DashboardID string
	Table       string
}

func (u unmatchedJSON) MarshalJSON() ([]byte, error) {
	return withFields(struct{}{}, []bi.Field{{Key: u.Tool.DashboardKey, Value: u.DashboardID}, {Key: "table", Value: u.Table}})
}

// syncer runs exposure syncs in the background: at most one per project at a
// time, and a request made during a sync runs once more after it. Its maps
// hold only projects with a sync running.
type syncer struct {
	mu      sync.Mutex
	running map[int64]bool
	again   map[int64]bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

func newSyncer() *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	return &syncer{running: map[int64]bool{}, again: map[int64]bool{}, ctx: ctx, cancel: cancel}
}

// triggerSync schedules a sync of the project without waiting for it. The
// request is recorded in the database first, so that a sync any replica
// starts after it covers it.
func (s *Server) triggerSync(accountID, projectID int64) {
	if _, err := s.store.RequestSync(context.Background(), projectID); err != nil {
		s.log.Warn("recording a sync request", "project_id", projectID, "error", err.Error())
	}
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
		if release, err := s.acquireHeavy(y.ctx, accountID); err == nil {
			if err := s.syncProject(y.ctx, accountID, projectID); err != nil {
				s.log.Warn("exposure sync failed", "project_id", projectID, "error", err.Error())
			}
			release()
		}
		y.mu.Lock()
		if y.again[projectID] && y.ctx.Err() == nil {
			delete(y.again, projectID)
			y.mu.Unlock()
			continue
		}
		delete(y.running, projectID)
		delete(y.again, projectID)
		y.mu.Unlock()
		return
	}
}

// Run syncs every project with a manifest each interval until ctx ends (dbt
// Cloud syncs daily and whenever the selection changes). interval <= 0
// disables it. Every replica looks often; the one that claims a project's
// due sync in the database runs it, so the schedule fires once.
func (s *Server) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(min(interval, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.runScheduled(ctx, interval, now)
		}
	}
}

// runScheduled starts the syncs that are due and that this server claims.
func (s *Server) runScheduled(ctx context.Context, interval time.Duration, now time.Time) {
	projects, err := s.store.ProjectsWithManifest(ctx)
	if err != nil {
		s.log.Warn("listing projects to sync", "error", err.Error())
		return
	}
	s.takeOverOrphans(ctx, projects)
	for _, p := range projects {
		claimed, err := s.store.ClaimScheduled(ctx, p[1], interval, now)
		if err != nil {
			s.log.Warn("claiming a scheduled sync", "project_id", p[1], "error", err.Error())
			continue
		}
		if claimed {
			s.triggerSync(p[0], p[1])
		}
	}
}

// Close stops background syncs and waits for them, then ends the BI tools'
// sessions, waiting for each sign-out at most a few seconds.
func (s *Server) Close() {
	s.sync.cancel()
	s.sync.wg.Wait()
	s.bi.Close()
}

// syncProject regenerates a project's exposures from its manifest and the
// Tableau content its integration watches. A failure is recorded and the
// previous exposures are kept. One sync of a project runs at a time across
// replicas, and one that finds every recorded request (RequestSync) served
// by a sync that started after it does nothing: syncs asked for at once, on
// any replicas, run once.
func (s *Server) syncProject(ctx context.Context, accountID, projectID int64) error {
	release, err := s.store.Lock(ctx, store.LockSync, projectID)
	if err != nil {
		return err
	}
	defer release()
	// A sync that finds the requests it would serve served already, by a
	// sync that started after them, has nothing to do.
	requested, done, err := s.store.SyncState(ctx, projectID)
	if err != nil {
		return err
	}
	if requested > 0 && done >= requested {
		return nil
	}
	start := time.Now()
	err = s.generate(ctx, accountID, projectID)
	s.metrics.sync(err, time.Since(start))
	if err == nil && requested > 0 {
		err = s.store.SyncDone(ctx, projectID, requested)
	}
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
	ix, err := s.dbtIndex(ctx, raw, projectID)
	if err != nil {
		return err
	}
	dashboards, sources, err := s.watchedDashboards(ctx, accountID, projectID)
	if err != nil {
		return err
	}
	res := exposures.BuildDashboards(dashboards, ix, exposures.Options{})
	yml, err := exposures.Render(res.Exposures, strings.Join(sources, " and "))
	if err != nil {
		return err
	}
	missing := map[string][]unmatchedColumnJSON{}
	for _, u := range res.UnmatchedColumns {
		missing[u.DashboardID] = append(missing[u.DashboardID], unmatchedColumnJSON{Node: u.Node, Column: u.Column})
	}
	out := make([]exposureJSON, 0, len(res.Exposures))
	for _, e := range res.Exposures {
		ej := toExposureJSON(e)
		ej.UnmatchedColumns = missing[e.DashboardID]
		out = append(out, ej)
	}
	unmatched := make([]unmatchedJSON, 0, len(res.Unmatched))
	for _, u := range res.Unmatched {
		unmatched = append(unmatched, unmatchedJSON{Tool: u.Tool, DashboardID: u.DashboardID, Table: u.Table})
	}
	ej, err := marshalEach(out)
	if err != nil {
		return err
	}
	uj, _ := json.Marshal(unmatched)
	return s.store.SaveSync(ctx, projectID, store.ExposureRecord{ExposuresJSON: string(ej), UnmatchedJSON: string(uj), YAML: string(yml), SyncedAt: store.Now()})
}

// dbtIndex indexes the stored manifest, with the project's catalog when
// one was uploaded.
func (s *Server) dbtIndex(ctx context.Context, manifest []byte, projectID int64) (*exposures.Index, error) {
	m, err := exposures.LoadStored(manifest)
	if err != nil {
		return nil, err
	}
	ix := exposures.NewIndex(m)
	raw, err := s.store.Catalog(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := exposures.LoadStoredCatalog(raw)
	if err != nil {
		return nil, err
	}
	return ix.WithCatalog(c), nil
}

func toExposureJSON(e exposures.Exposure) exposureJSON {
	owner := map[string]string{}
	if e.OwnerName != "" {
		owner["name"] = e.OwnerName
	}
	if e.OwnerEmail != "" {
		owner["email"] = e.OwnerEmail
	}
	targets := e.Targets
	if targets == nil {
		targets = []bi.Target{}
	}
	return exposureJSON{Name: e.Name, Label: e.Label, Type: e.Type, URL: e.URL, Maturity: e.Maturity, Owner: owner,
		Description: e.Description, DependsOn: e.DependsOn, Tool: e.Tool.Name, Tags: e.Tags, DependsOnIDs: e.DependsOnIDs,
		DashboardID: e.DashboardID, RefreshTargets: targets, meta: e.Meta}
}

// watchedDashboards reads what the project's integrations watch, each through
// its tool's connector, with the names of where they came from.
func (s *Server) watchedDashboards(ctx context.Context, accountID, projectID int64) ([]bi.Dashboard, []string, error) {
	list, _, err := s.store.ListIntegrations(ctx, accountID, projectID, 100, 0)
	if err != nil {
		return nil, nil, err
	}
	var out []bi.Dashboard
	var sources []string
	for i := range list {
		in := &list[i]
		conn, ok := bi.Lookup(in.Name)
		if !ok {
			continue // a tool this server does not serve: nothing to read
		}
		sources = append(sources, conn.Describe(bi.Config(in.Config)))
		watches, err := s.store.Watches(ctx, in.ID)
		if err != nil {
			return nil, nil, err
		}
		if len(watches) == 0 {
			continue
		}
		ds, err := s.bi.dashboards(ctx, in, selection(watches))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ds...)
	}
	if len(sources) == 0 {
		sources = []string{"no BI integration"}
	}
	return out, sources, nil
}

// selection is an integration's watches as the connectors take them.
func selection(watches map[string]store.Watch) bi.Selection {
	sel := bi.Selection{Folders: map[string]bool{}, Dashboards: map[string]bool{}}
	for id, w := range watches {
		if w.Type == store.WatchFolder {
			sel.Folders[id] = true
		} else {
			sel.Dashboards[id] = true
		}
	}
	return sel
}
