package tableau

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
)

// pagesInFlight bounds the pages pageByOffset asks for at once.
const pagesInFlight = 4

// errShifted means the content changed while it was read by offset: pages
// may have skipped or repeated items.
var errShifted = errors.New("the content changed while it was read")

// probePage is the first page's size when reading by offset: small enough
// to fit any node limit, large enough to learn how many nodes an item costs.
const probePage = 50

// nodeBudget is the share of Tableau's 20,000 nodes a page is sized for.
const nodeBudget = 16000

// pageByOffset reads a connection whose order is stable (by ID) a few pages
// at once: a small first page says how many items there are and how many
// nodes one costs (nodes counts them), so that the others, asked for by
// offset, fit Tableau's node limit; a page that does not is read as two
// halves. If the count changes, or the pages do not add up to it, the read
// is done again a page after another with cursors, which no change can make
// skip items silently.
func pageByOffset[T any](ctx context.Context, c *Client, query, field string, nodes func(T) int, each func(nodes []T) error) error {
	err := offsetPages(ctx, c, query, field, nodes, each)
	if !errors.Is(err, errShifted) {
		return err
	}
	c.log.InfoContext(ctx, "Tableau content changed while it was read by offset; reading it again with cursors", "field", field)
	return pageAll(ctx, c, query, field, each)
}

// offsetPages is one attempt of pageByOffset. The pages' nodes reach each
// in the order of their offsets, so results do not depend on timing.
func offsetPages[T any](ctx context.Context, c *Client, query, field string, nodes func(T) int, each func(nodes []T) error) error {
	first, total, err := firstPage[T](ctx, c, query, field)
	if err != nil {
		return err
	}
	size := pageSize(c.cfg.PageSize, first, nodes)
	// Every page has its slot before any is read: each goroutine writes its own.
	rest := max(0, total-len(first))
	pages := make([][]T, 1+(rest+size-1)/size)
	pages[0] = first
	group, gctx := errgroup.WithContext(ctx)
	group.SetLimit(pagesInFlight)
	for i := 1; i < len(pages); i++ {
		offset := len(first) + (i-1)*size
		group.Go(func() error {
			nodes, err := pageAt[T](gctx, c, query, field, offset, min(size, total-offset), total)
			pages[i] = nodes
			return err
		})
	}
	if err := group.Wait(); err != nil {
		return err
	}
	got := 0
	for _, p := range pages {
		got += len(p)
	}
	if got != total {
		return errShifted
	}
	for _, p := range pages {
		if err := each(p); err != nil {
			return err
		}
	}
	return nil
}

// firstPage reads the small first page, halving on node and time limits,
// and returns its nodes and the total.
func firstPage[T any](ctx context.Context, c *Client, query, field string) ([]T, int, error) {
	size := min(probePage, c.cfg.PageSize)
	for {
		conn, err := onePage[T](ctx, c, query, field, map[string]any{"first": size, "offset": 0})
		if errors.Is(err, errTooBig) && size > 1 {
			size = max(1, size/2)
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return conn.Nodes, conn.TotalCount, nil
	}
}

// pageSize is how many items a page holds within nodeBudget, as the first
// page's items cost, and at most the configured page size.
func pageSize[T any](configured int, sample []T, nodes func(T) int) int {
	if len(sample) == 0 {
		return configured
	}
	total := 0
	for _, item := range sample {
		total += nodes(item)
	}
	perItem := max(1, (total+len(sample)-1)/len(sample))
	return max(1, min(configured, nodeBudget/perItem))
}

// pageAt reads n items from offset; a page over Tableau's limits is read
// as two halves. A total other than the first page's is errShifted.
func pageAt[T any](ctx context.Context, c *Client, query, field string, offset, n, total int) ([]T, error) {
	conn, err := onePage[T](ctx, c, query, field, map[string]any{"first": n, "offset": offset})
	switch {
	case errors.Is(err, errTooBig) && n > 1:
		half := n / 2
		a, err := pageAt[T](ctx, c, query, field, offset, half, total)
		if err != nil {
			return nil, err
		}
		b, err := pageAt[T](ctx, c, query, field, offset+half, n-half, total)
		return append(a, b...), err
	case err != nil:
		return nil, err
	case conn.TotalCount != total:
		return nil, errShifted
	}
	return conn.Nodes, nil
}

// pageByIDs reads the nodes with these IDs in batches of up to maxIDsPage,
// each read whole (halved on Tableau's limits), inFlight batches at once;
// each gets one page at a time, never two at once.
func pageByIDs[T any](ctx context.Context, c *Client, query, field string, ids []string, inFlight int, each func(nodes []T) error) error {
	var mu sync.Mutex
	group, gctx := errgroup.WithContext(ctx)
	group.SetLimit(inFlight)
	for start := 0; start < len(ids); start += maxIDsPage {
		batch := ids[start:min(len(ids), start+maxIDsPage)]
		group.Go(func() error {
			return pageAllWith(gctx, c, query, field, map[string]any{"ids": batch}, func(nodes []T) error {
				mu.Lock()
				defer mu.Unlock()
				return each(nodes)
			})
		})
	}
	return group.Wait()
}

// onePage runs one query for one page of field.
func onePage[T any](ctx context.Context, c *Client, query, field string, vars map[string]any) (*connection[T], error) {
	data, err := graphQL[map[string]*connection[T]](ctx, c, query, vars)
	if errors.Is(err, errTooBig) && vars["first"] == 1 {
		return nil, fmt.Errorf("Tableau: even one %s node exceeds the Metadata API's node or time limit", field)
	}
	if err != nil {
		return nil, err
	}
	conn := (*data)[field]
	if conn == nil {
		return nil, fmt.Errorf("Tableau: the Metadata API answer has no %s", field)
	}
	return conn, nil
}
