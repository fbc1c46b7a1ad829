package dbtcloud

import (
	"context"
	"sync"
)

// TreeItem is an item of the BI tool's tree with the folder it sits in ("" at the top).
type TreeItem struct {
	WatchSelectionItem
	Parent string
}

// DefaultWalkConcurrency bounds parallel collections requests: enough to read
// thousands of folders quickly, few enough to stay far below rate limits.
const DefaultWalkConcurrency = 8

// WalkCollections reads the whole tree: one collections request per folder,
// at most concurrency at a time. The first error stops the walk.
func (c *Client) WalkCollections(ctx context.Context, projectID, integrationID int64, concurrency int) ([]TreeItem, error) {
	if concurrency < 1 {
		concurrency = DefaultWalkConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		out      []TreeItem
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, concurrency)
		visited  = map[string]bool{"": true}
	)
	var visit func(folder string)
	visit = func(folder string) {
		defer wg.Done()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		items, err := c.ListCollections(ctx, projectID, integrationID, folder)
		<-sem
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
				cancel()
			}
			return
		}
		for _, it := range items {
			out = append(out, TreeItem{WatchSelectionItem: it, Parent: folder})
			if it.Type == ItemFolder && !visited[it.Identifier] { // a server that repeats a folder cannot make us loop
				visited[it.Identifier] = true
				wg.Add(1)
				go visit(it.Identifier)
			}
		}
	}
	wg.Add(1)
	go visit("")
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
