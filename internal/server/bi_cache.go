package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// biRetry is lighter than a provider's: the server answers an API call that is
// itself retried by its client, so it gives up sooner.
var biRetry = transport.RetryConfig{MaxRetries: 2, WaitMin: 200 * time.Millisecond, WaitMax: 2 * time.Second, Timeout: 30 * time.Second}

// DefaultBICacheTTL is how long the server trusts what it read from a BI tool.
const DefaultBICacheTTL = 5 * time.Minute

// Bounds of the cache's background work.
const (
	// defaultCloseTimeout bounds one sign-out; Close waits for those in flight.
	defaultCloseTimeout = 5 * time.Second
	// readTimeout bounds a shared read, which outlives the request that began it.
	readTimeout = 10 * time.Minute
	// minIdle is the shortest time an unused integration's client is kept.
	minIdle = 30 * time.Minute
)

// biCache keeps one open client per integration, and the tree it last read,
// for every tool alike. Its lock is never held over the network: callers that
// want the same integration's tree share one read.
type biCache struct {
	ttl          time.Duration
	idle         time.Duration // an integration unused this long is evicted
	closeTimeout time.Duration
	log          *slog.Logger
	env          func(tool string) bi.Env
	reads        singleflight.Group
	closing      sync.WaitGroup
	mu           sync.Mutex
	by           map[int64]*biEntry
	lastEvic     time.Time
}

// biEntry is one integration's client and tree.
type biEntry struct {
	key    string // the config the client was made for
	conn   bi.Connector
	client bi.Client
	tree   cachedTree
	top    cachedTree // the top level alone, read through bi.TopLister
	used   time.Time
}

// cachedTree is a tree and when it was read.
type cachedTree struct {
	tree *bi.Tree
	at   time.Time
}

// fresh is the tree when it is younger than ttl, else nil.
func (t cachedTree) fresh(ttl time.Duration) *bi.Tree {
	if t.tree != nil && time.Since(t.at) < ttl {
		return t.tree
	}
	return nil
}

func newBICache(ttl time.Duration, log *slog.Logger, env func(tool string) bi.Env) *biCache {
	if ttl <= 0 {
		ttl = DefaultBICacheTTL
	}
	return &biCache{ttl: ttl, idle: max(minIdle, 6*ttl), closeTimeout: defaultCloseTimeout, log: log, env: env, by: map[int64]*biEntry{}}
}

// configKey identifies an integration's settings, secrets included, without
// holding the secrets: a client made for other settings is replaced.
func configKey(name string, cfg map[string]string) string {
	h := sha256.New()
	h.Write([]byte(name))
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		fmt.Fprintf(h, "\x00%s\x00%s", k, cfg[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// entry returns the integration's entry, opening a client (which sends
// nothing) when there is none or the config changed. The old client is closed
// in the background.
func (c *biCache) entry(i *store.Integration) (*biEntry, error) {
	conn, ok := bi.Lookup(i.Name)
	if !ok {
		return nil, &toolFailure{http.StatusBadRequest, fmt.Sprintf("The server does not serve %q integrations; it serves %s.", i.Name, strings.Join(bi.Names(), ", "))}
	}
	key := configKey(i.Name, i.Config)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictIdle(now)
	if e := c.by[i.ID]; e != nil && e.key == key {
		e.used = now
		return e, nil
	}
	env := c.env(i.Name)
	env.Logger = c.log.With("integration_id", i.ID, "tool", i.Name)
	client, err := conn.Open(bi.Config(i.Config), env)
	if err != nil {
		return nil, &toolFailure{http.StatusBadRequest, fmt.Sprintf("The integration's %s settings are invalid: %v", conn.Tool().Label, err)}
	}
	if old := c.by[i.ID]; old != nil {
		c.closeLater(old.client)
	}
	e := &biEntry{key: key, conn: conn, client: client, used: now}
	c.by[i.ID] = e
	return e, nil
}

// client is the integration's client, for calls other than reading its tree.
func (c *biCache) client(i *store.Integration) (bi.Connector, bi.Client, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, nil, err
	}
	return e.conn, e.client, nil
}

// tree returns the integration's tree, reading the tool when the last read is
// older than the TTL, when refresh is set, or when the config changed.
func (c *biCache) tree(ctx context.Context, i *store.Integration) (*bi.Tree, error) {
	return c.readTree(ctx, i, false)
}

// freshTree reads the integration's tree afresh.
func (c *biCache) freshTree(ctx context.Context, i *store.Integration) (*bi.Tree, error) {
	return c.readTree(ctx, i, true)
}

func (c *biCache) readTree(ctx context.Context, i *store.Integration, refresh bool) (*bi.Tree, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	t := e.tree.fresh(c.ttl)
	c.mu.Unlock()
	if t != nil && !refresh {
		return t, nil
	}
	return c.shared(ctx, e, fmt.Sprintf("%d/%s/tree/%t", i.ID, e.key, refresh), &e.tree, e.client.Tree)
}

// top returns the integration's top-level folders: from a fresh tree, else
// through a lighter read when the tool has one (a credential check must not
// cost a Power BI scan), else from the tree. Reads are kept for the TTL.
func (c *biCache) top(ctx context.Context, i *store.Integration) (*bi.Tree, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, err
	}
	lister, light := e.client.(bi.TopLister)
	c.mu.Lock()
	t := e.tree.fresh(c.ttl)
	if t == nil && light {
		t = e.top.fresh(c.ttl)
	}
	c.mu.Unlock()
	switch {
	case t != nil:
		return t, nil
	case !light:
		return c.tree(ctx, i)
	}
	return c.shared(ctx, e, fmt.Sprintf("%d/%s/top", i.ID, e.key), &e.top, lister.Top)
}

// shared runs read once for all callers of key at a time and keeps its tree
// in slot. Each caller still stops waiting when its own request ends.
func (c *biCache) shared(ctx context.Context, e *biEntry, key string, slot *cachedTree, read func(context.Context) (*bi.Tree, error)) (*bi.Tree, error) {
	ch := c.reads.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
		defer cancel()
		t, err := read(rctx)
		if err != nil {
			return nil, explain(e, err)
		}
		c.mu.Lock()
		*slot = cachedTree{t, time.Now()}
		c.mu.Unlock()
		return t, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*bi.Tree), nil
	}
}

// dashboards reads what the integration's selection covers, with lineage.
func (c *biCache) dashboards(ctx context.Context, i *store.Integration, sel bi.Selection) ([]bi.Dashboard, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, err
	}
	ds, err := e.client.Dashboards(ctx, sel)
	if err != nil {
		return nil, explain(e, err)
	}
	return ds, nil
}

// explain is the tool's failure as the API answers it.
func explain(e *biEntry, err error) error {
	f := e.client.Explain(err)
	status := http.StatusBadGateway
	if f.Refused {
		status = http.StatusBadRequest
	}
	return &toolFailure{status, f.Message}
}

// forget drops an integration's client and tree (it was deleted).
func (c *biCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.by[id]; e != nil {
		delete(c.by, id)
		c.closeLater(e.client)
	}
}

// evictIdle drops the clients of integrations unused for the idle time, at
// most once a TTL. c.mu is held.
func (c *biCache) evictIdle(now time.Time) {
	if now.Sub(c.lastEvic) < c.ttl {
		return
	}
	c.lastEvic = now
	for id, e := range c.by {
		if now.Sub(e.used) > c.idle {
			delete(c.by, id)
			c.closeLater(e.client)
		}
	}
}

// closeLater ends a client's session in the background, within c.closeTimeout;
// Close waits for it. c.mu is held.
func (c *biCache) closeLater(client bi.Client) {
	c.closing.Add(1)
	go func() {
		defer c.closing.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
		defer cancel()
		_ = client.Close(ctx) // best effort: a session expires on its own anyway
	}()
}

// Close ends every client's session and waits for the sign-outs, each within
// c.closeTimeout.
func (c *biCache) Close() {
	c.mu.Lock()
	for id, e := range c.by {
		delete(c.by, id)
		c.closeLater(e.client)
	}
	c.mu.Unlock()
	c.closing.Wait()
}

// toolFailure is a BI tool's problem as the API answers it: a 4xx when the
// integration's settings are wrong, 502 when the tool fails or cannot be reached.
type toolFailure struct {
	status int
	msg    string
}

func (f *toolFailure) Error() string { return f.msg }

// size is how many integrations have an open client.
func (c *biCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.by)
}
