package provider

import (
	"context"
	"sync"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// collectionsTree is one walk of a connection's BI tree, indexed by identifier.
type collectionsTree struct {
	items map[string]dbtcloud.TreeItem
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

// treeCache remembers walks within one provider process, so that the refresh
// and the plan of one run walk the tree once. Writes invalidate it.
type treeCache struct {
	mu    sync.Mutex
	trees map[string]*collectionsTree
}

func (c *treeCache) get(ctx context.Context, client *dbtcloud.Client, projectID, connectionID int64) (*collectionsTree, error) {
	key := twoPartID(projectID, connectionID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.trees[key]; ok {
		return t, nil
	}
	items, err := client.WalkCollections(ctx, projectID, connectionID, dbtcloud.DefaultWalkConcurrency)
	if err != nil {
		return nil, err
	}
	t := &collectionsTree{items: make(map[string]dbtcloud.TreeItem, len(items))}
	for _, it := range items {
		t.items[it.Identifier] = it
	}
	if c.trees == nil {
		c.trees = map[string]*collectionsTree{}
	}
	c.trees[key] = t
	return t, nil
}

func (c *treeCache) invalidate(projectID, connectionID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.trees, twoPartID(projectID, connectionID))
}
