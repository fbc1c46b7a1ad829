package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// PowerBIConfig is where the server reaches Power BI: the public cloud by
// default, a sovereign cloud or the emulator otherwise.
type PowerBIConfig struct {
	APIURL, LoginURL string        // "" takes Power BI's public cloud
	PollInterval     time.Duration // first wait between scanStatus polls; 0 takes the client's default
}

// tenantScan is one integration's scan: the result, for syncs, and its tree,
// for the collections endpoints.
type tenantScan struct {
	result *powerbi.ScanResult
	snap   *snapshot
}

// powerbiTenants keeps one Power BI client (so one token) and one scan per
// integration, so a plan's many collections requests cost one scan.
type powerbiTenants struct {
	cfg       PowerBIConfig
	ttl       time.Duration
	log       *slog.Logger
	transport http.RoundTripper
	entries   byIntegration[tenantEntry]
}

type tenantEntry struct {
	mu     sync.Mutex // one scan at a time per integration
	key    string     // config the client was made for
	client *powerbi.Client
	scan   *tenantScan
}

func newPowerBITenants(cfg PowerBIConfig, ttl time.Duration, log *slog.Logger, egress *Egress) *powerbiTenants {
	if ttl <= 0 {
		ttl = DefaultTableauTTL
	}
	return &powerbiTenants{cfg: cfg, ttl: ttl, log: log, transport: egress.Transport()}
}

// ensureClient makes the entry's client match the integration's config,
// dropping the scan when the config changed. e.mu is held.
func (t *powerbiTenants) ensureClient(e *tenantEntry, i *store.Integration) error {
	key := configKey(i.TenantID, i.ClientID, i.ClientSecret)
	if e.key == key && e.client != nil {
		return nil
	}
	c, err := powerbi.New(powerbi.Config{TenantID: i.TenantID, ClientID: i.ClientID, ClientSecret: i.ClientSecret,
		APIURL: t.cfg.APIURL, LoginURL: t.cfg.LoginURL, PollInterval: t.cfg.PollInterval, Retry: tableauRetry,
		Logger: t.log.With("integration_id", i.ID), Transport: t.transport})
	if err != nil {
		return &toolFailure{status: http.StatusBadRequest, msg: "The integration's Power BI settings are invalid: " + err.Error()}
	}
	e.key, e.client, e.scan = key, c, nil
	return nil
}

// clientFor is the integration's client, for calls other than the scan.
func (t *powerbiTenants) clientFor(i *store.Integration) (*powerbi.Client, error) {
	e := t.entries.get(i.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := t.ensureClient(e, i); err != nil {
		return nil, err
	}
	return e.client, nil
}

// get returns the integration's scan, scanning the tenant when the last scan
// is older than the TTL, when refresh is set, or when the config changed.
func (t *powerbiTenants) get(ctx context.Context, i *store.Integration, refresh bool) (*tenantScan, error) {
	e := t.entries.get(i.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := t.ensureClient(e, i); err != nil {
		return nil, err
	}
	if e.scan != nil && !refresh && time.Since(e.scan.snap.fetched) < t.ttl {
		return e.scan, nil
	}
	ids, err := e.client.ModifiedWorkspaces(ctx)
	if err != nil {
		return nil, asPowerBIFailure(i, err)
	}
	res, err := e.client.Scan(ctx, ids)
	if err != nil {
		return nil, asPowerBIFailure(i, err)
	}
	e.scan = &tenantScan{result: res, snap: workspaceTree(i, res)}
	return e.scan, nil
}

// workspaceTree is the scan as collections: workspaces at the top, each with
// its reports inside.
func workspaceTree(i *store.Integration, res *powerbi.ScanResult) *snapshot {
	s := newSnapshot(fmt.Sprintf("the Power BI tenant %q", i.TenantID))
	for _, w := range res.Workspaces {
		s.folders[w.ID] = w.Name
		s.children[""] = append(s.children[""], w.ID)
		for _, r := range w.Reports {
			s.dashboards[r.ID] = r.Name
			s.contents[w.ID] = append(s.contents[w.ID], r.ID)
		}
	}
	s.sortByName()
	return s
}

// forget drops an integration's client and scan (it was deleted).
func (t *powerbiTenants) forget(id int64) { t.entries.remove(id) }

// byIntegration holds one E per integration, made empty on first use.
type byIntegration[E any] struct {
	mu sync.Mutex
	by map[int64]*E
}

func (b *byIntegration[E]) get(id int64) *E {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil {
		b.by = map[int64]*E{}
	}
	e := b.by[id]
	if e == nil {
		e = new(E)
		b.by[id] = e
	}
	return e
}

// remove drops id's entry and returns it, or nil.
func (b *byIntegration[E]) remove(id int64) *E {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.by[id]
	delete(b.by, id)
	return e
}

// asPowerBIFailure answers a Power BI error: the integration's settings or
// the tenant's (a 400 naming what to change), or Power BI failing (502).
func asPowerBIFailure(i *store.Integration, err error) error {
	if errors.Is(err, ErrEgressRefused) {
		return &toolFailure{http.StatusBadGateway, fmt.Sprintf("The server may not connect to Power BI: %v. Allow the Power BI API and login hosts in the server's egress rules.", err)}
	}
	var pe *powerbi.Error
	if errors.As(err, &pe) {
		if pe.Status == http.StatusBadRequest || pe.Status == http.StatusUnauthorized || pe.Status == http.StatusForbidden {
			return &toolFailure{http.StatusBadRequest, fmt.Sprintf("Power BI refused the integration (tenant_id %q, client_id %q): %s", i.TenantID, i.ClientID, pe.Error())}
		}
		return &toolFailure{http.StatusBadGateway, "Power BI failed: " + pe.Error()}
	}
	return &toolFailure{http.StatusBadGateway, fmt.Sprintf("Could not scan Power BI tenant %q: %v", i.TenantID, err)}
}
