package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// tableauRetry is lighter than a provider's: the server answers an API call
// that is itself retried by its client, so it gives up sooner.
var tableauRetry = transport.RetryConfig{MaxRetries: 2, WaitMin: 200 * time.Millisecond, WaitMax: 2 * time.Second, Timeout: 30 * time.Second}

// DefaultTableauTTL is how long the server trusts what it read from Tableau.
const DefaultTableauTTL = 5 * time.Minute

// snapshot is a BI tool's tree as the collections endpoints serve it: Tableau
// projects and workbooks, or Power BI workspaces and reports.
type snapshot struct {
	fetched    time.Time
	where      string              // the site or tenant, for messages
	folders    map[string]string   // folder ID -> name
	dashboards map[string]string   // dashboard ID -> name
	children   map[string][]string // folder ID ("" = top) -> child folder IDs, by name
	contents   map[string][]string // folder ID -> dashboard IDs, by name
}

func newSnapshot(where string) *snapshot {
	return &snapshot{fetched: time.Now(), where: where, folders: map[string]string{}, dashboards: map[string]string{},
		children: map[string][]string{}, contents: map[string][]string{}}
}

// sortByName orders every level of the tree by name.
func (s *snapshot) sortByName() {
	for _, ids := range s.children {
		sort.Slice(ids, func(a, b int) bool { return s.folders[ids[a]] < s.folders[ids[b]] })
	}
	for _, ids := range s.contents {
		sort.Slice(ids, func(a, b int) bool { return s.dashboards[ids[a]] < s.dashboards[ids[b]] })
	}
}

// item names the folder or dashboard with this identifier, and its type; the
// type is "" when the tool has no such item.
func (s *snapshot) item(id string) (string, dbtcloud.ItemType) {
	if name, ok := s.folders[id]; ok {
		return name, dbtcloud.ItemFolder
	}
	if name, ok := s.dashboards[id]; ok {
		return name, dbtcloud.ItemDashboard
	}
	return "", ""
}

// tableauSites keeps one Tableau client (so one session) and one snapshot per
// integration, so a plan's many collections requests do not hammer Tableau.
type tableauSites struct {
	ttl       time.Duration
	log       *slog.Logger      // the server's: Tableau's warnings, retries and traces go there
	transport http.RoundTripper // through the egress rules
	entries   byIntegration[siteEntry]
}

type siteEntry struct {
	mu     sync.Mutex // one read of Tableau at a time per integration
	key    string     // config the client was made for
	client *tableau.Client
	snap   *snapshot
}

func newTableauSites(ttl time.Duration, log *slog.Logger, egress *Egress) *tableauSites {
	if ttl <= 0 {
		ttl = DefaultTableauTTL
	}
	return &tableauSites{ttl: ttl, log: log, transport: egress.Transport()}
}

// configKey identifies an integration's settings, secret included, without
// holding the secret: a client made for other settings is replaced.
func configKey(settings ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(settings, "\x00")))
	return hex.EncodeToString(sum[:])
}

// ensureClient makes the entry's client match the integration's config, signing
// the old one out and dropping its snapshot when the config changed. e.mu is held.
func (t *tableauSites) ensureClient(e *siteEntry, i *store.Integration) error {
	key := configKey(i.Host, i.SiteID, i.TokenName, i.TableauToken)
	if e.key == key && e.client != nil {
		return nil
	}
	if e.client != nil {
		old := e.client
		go func() { _ = old.SignOut(context.Background()) }() // best effort; the session would expire anyway
	}
	c, err := tableau.New(tableau.Config{Host: i.Host, Site: i.SiteID, TokenName: i.TokenName, TokenSecret: i.TableauToken,
		UserAgent: "dbtexposures-server", Retry: tableauRetry, Logger: t.log.With("integration_id", i.ID), Transport: t.transport})
	if err != nil {
		return &toolFailure{status: http.StatusBadRequest, msg: "The integration's Tableau settings are invalid: " + err.Error()}
	}
	e.key, e.client, e.snap = key, c, nil
	return nil
}

// clientFor is the integration's client, for calls other than reading the tree.
func (t *tableauSites) clientFor(i *store.Integration) (*tableau.Client, error) {
	e := t.entries.get(i.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := t.ensureClient(e, i); err != nil {
		return nil, err
	}
	return e.client, nil
}

// discover reads the integration's site with its lineage (Metadata API), for syncs.
func (t *tableauSites) discover(ctx context.Context, i *store.Integration) ([]tableau.Project, []tableau.Workbook, error) {
	c, err := t.clientFor(i)
	if err != nil {
		return nil, nil, err
	}
	site, err := c.Discover(ctx)
	if err != nil {
		return nil, nil, asTableauFailure(i, err)
	}
	return site.Projects, site.Workbooks, nil
}

// get returns the integration's snapshot, reading Tableau when it is older than
// the TTL, when refresh is set, or when the integration's config changed.
func (t *tableauSites) get(ctx context.Context, i *store.Integration, refresh bool) (*snapshot, error) {
	e := t.entries.get(i.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := t.ensureClient(e, i); err != nil {
		return nil, err
	}
	if e.snap != nil && !refresh && time.Since(e.snap.fetched) < t.ttl {
		return e.snap, nil
	}
	projects, err := e.client.ListProjects(ctx)
	if err != nil {
		return nil, asTableauFailure(i, err)
	}
	wbs, err := e.client.ListWorkbooksREST(ctx, "")
	if err != nil {
		return nil, asTableauFailure(i, err)
	}
	s := newSnapshot(fmt.Sprintf("the Tableau site %q at %s", i.SiteID, i.Host))
	for _, p := range projects {
		s.folders[p.ID] = p.Name
	}
	for _, p := range projects {
		parent := p.ParentID
		if _, ok := s.folders[parent]; !ok {
			parent = "" // a parent we cannot see puts the project at the top
		}
		s.children[parent] = append(s.children[parent], p.ID)
	}
	for _, w := range wbs {
		s.dashboards[w.ID] = w.Name
		s.contents[w.ProjectID] = append(s.contents[w.ProjectID], w.ID)
	}
	s.sortByName()
	e.snap = s
	return s, nil
}

// forget drops an integration's client and snapshot (it was deleted).
func (t *tableauSites) forget(id int64) {
	if e := t.entries.remove(id); e != nil && e.client != nil {
		go func() { _ = e.client.SignOut(context.Background()) }()
	}
}

// toolFailure is a BI tool's problem as the API answers it: a 4xx when the
// integration's settings are wrong, 502 when the tool fails or cannot be reached.
type toolFailure struct {
	status int
	msg    string
}

func (f *toolFailure) Error() string { return f.msg }

func asTableauFailure(i *store.Integration, err error) error {
	if errors.Is(err, ErrEgressRefused) {
		return &toolFailure{http.StatusBadRequest, fmt.Sprintf("Invalid field \"config.host\": the server does not connect to %s: %v", i.Host, err)}
	}
	var te *tableau.Error
	if errors.As(err, &te) {
		switch {
		case te.Code == "401001":
			return &toolFailure{http.StatusBadRequest, fmt.Sprintf("Tableau at %s refused the integration's personal access token %q for site %q (401001): update config.token_name and config.token, and check config.site_id.", te.Host, i.TokenName, i.SiteID)}
		case te.Status == http.StatusForbidden:
			return &toolFailure{http.StatusBadRequest, fmt.Sprintf("Tableau at %s does not let token %q read the site: %s", te.Host, i.TokenName, te.Error())}
		case te.Status == http.StatusNotFound:
			return &toolFailure{http.StatusBadRequest, fmt.Sprintf("Tableau at %s: %s. Check config.host and config.site_id.", te.Host, te.Error())}
		}
		return &toolFailure{http.StatusBadGateway, "Tableau failed: " + te.Error()}
	}
	return &toolFailure{http.StatusBadGateway, fmt.Sprintf("Could not read Tableau at %s: %v", i.Host, err)}
}
