package provider

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// collectionsTree is one walk of a connection's BI tree, indexed by identifier.
type collectionsTree struct {
	items map[string]dbtcloud.TreeItem
	tool  string // the connection's integration name: "tableau" or "powerbi"
}

func (t *collectionsTree) watching() map[string]dbtcloud.TreeItem {
	out := map[string]dbtcloud.TreeItem{}
	for id, it := range t.items {
		if it.Watching {
			out[id] = it
		}
	}
	return out
}

// biUnreadable reports whether a collections failure means that dbt Cloud
// could not read the BI tool (a refused token, an unreachable site), or
// answered with errors of its own: everything but dbt Cloud refusing our token
// or not knowing the connection, which the user must fix in dbt Cloud.
func biUnreadable(err error) bool {
	var e *dbtcloud.APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return false
	}
	return true
}

// treeCache remembers walks within one provider run (Terraform configures the
// provider anew for each), so that the refresh and the plan walk the tree once.
// A walk that failed because the BI tool cannot be read is not tried again in
// the run, and its warning is given once. Writes invalidate the walk. No lock
// is held while dbt Cloud is walked: selections of other connections go on,
// and callers wanting the same connection share one walk.
type treeCache struct {
	mu     sync.Mutex
	walks  singleflight.Group
	trees  map[string]*collectionsTree
	failed map[string]error
	warned map[string]bool
	owners map[string]bool   // connections a selection resource claimed in this run
	tools  map[string]string // connection -> its integration name, read from dbt Cloud
	gen    map[string]int    // bumped by invalidate: a walk begun before a write is not kept
}

func (c *treeCache) get(ctx context.Context, client *dbtcloud.Client, projectID, connectionID int64) (*collectionsTree, error) {
	key := twoPartID(projectID, connectionID)
	c.mu.Lock()
	if t, ok := c.trees[key]; ok {
		c.mu.Unlock()
		return t, nil
	}
	if err, ok := c.failed[key]; ok {
		c.mu.Unlock()
		return nil, err
	}
	gen := c.gen[key]
	c.mu.Unlock()
	v, err, _ := c.walks.Do(key+"#"+strconv.Itoa(gen), func() (any, error) {
		return c.walk(ctx, client, projectID, connectionID, key, gen)
	})
	if err != nil {
		return nil, err
	}
	return v.(*collectionsTree), nil
}

// walk reads the connection's tool (once a run) and its tree, and keeps the
// tree unless the connection was written to meanwhile.
func (c *treeCache) walk(ctx context.Context, client *dbtcloud.Client, projectID, connectionID int64, key string, gen int) (*collectionsTree, error) {
	// The tool decides the arguments' names (workbook_ids or report_ids) and
	// the messages' words; dbt Cloud knows it even when the BI tool is down.
	tool := c.tool(key)
	if tool == "" {
		in, err := client.GetLineageIntegration(ctx, projectID, connectionID)
		if err != nil {
			return nil, err
		}
		tool = in.Name
		c.mu.Lock()
		setKey(&c.tools, key, tool)
		c.mu.Unlock()
	}
	items, err := client.WalkCollections(ctx, projectID, connectionID, dbtcloud.DefaultWalkConcurrency)
	c.mu.Lock()
	defer c.mu.Unlock()
	current := c.gen[key] == gen
	if err != nil {
		if current && biUnreadable(err) {
			setKey(&c.failed, key, err)
		}
		return nil, err
	}
	t := &collectionsTree{items: make(map[string]dbtcloud.TreeItem, len(items)), tool: tool}
	for _, it := range items {
		t.items[it.Identifier] = it
	}
	if current {
		setKey(&c.trees, key, t)
	}
	return t, nil
}

// walked reports whether the tree of key was read (or failed to be) in this
// run, by the refresh before the plan.
func (c *treeCache) walked(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.trees[key]
	_, failed := c.failed[key]
	return ok || failed
}

func (c *treeCache) invalidate(projectID, connectionID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := twoPartID(projectID, connectionID)
	delete(c.trees, key)
	delete(c.failed, key)
	setKey(&c.gen, key, c.gen[key]+1)
}

// tool is the connection's integration name when a walk read it in this run, else "".
func (c *treeCache) tool(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tools[key]
}

// firstWarning reports whether this is the first warning about key in the run.
func (c *treeCache) firstWarning(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warned[key] {
		return false
	}
	setKey(&c.warned, key, true)
	return true
}

// claim records that a selection resource manages the connection key in this
// run; it reports false when another one already does.
func (c *treeCache) claim(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owners[key] {
		return false
	}
	setKey(&c.owners, key, true)
	return true
}

func setKey[V any](m *map[string]V, key string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[key] = v
}
