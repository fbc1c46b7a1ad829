package tableau

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// pagesInFlight bounds the pages pageByOffset asks for at once.
const pagesInFlight = 4

// errShifted means the content changed while it was read by offset: pages
// may have skipped or repeated items.
var errShifted = errors.New("the content changed while it was read")

// pageByOffset reads a connection whose order is stable (by ID) a few pages
// at once: the first page says how many items there are, and the others are
// asked for by offset. Each page halves on Tableau's node and time limits. If
// the count changes, or the pages do not add up to it, the read is done
// again a page after another with cursors, which no change can make skip
// items silently.
func pageByOffset[T any](ctx context.Context, c *Client, query, field string, each func(nodes []T) error) error {
	err := offsetPages(ctx, c, query, field, each)
	if !errors.Is(err, errShifted) {
		return err
	}
	c.log.InfoContext(ctx, "Tableau content changed while it was read by offset; reading it again with cursors", "field", field)
	return pageAll(ctx, c, query, field, each)
}

// offsetPages is one attempt of pageByOffset. The pages' nodes reach each
// in the order of their offsets, so results do not depend on timing.
func offsetPages[T any](ctx context.Context, c *Client, query, field string, each func(nodes []T) error) error {
	first, total, size, err := firstPage[T](ctx, c, query, field)
	if err != nil {
		return err
	}
	// Every page has its slot before any is read: each goroutine writes its own.
	pages := make([][]T, 1+max(0, (total-size+size-1)/size))
	pages[0] = first
	group, gctx := errgroup.WithContext(ctx)
	group.SetLimit(pagesInFlight)
	for i := 1; i < len(pages); i++ {
		offset := i * size
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

// firstPage reads the first page, halving on node and time limits, and
// returns its nodes, the total and the page size that fit.
func firstPage[T any](ctx context.Context, c *Client, query, field string) ([]T, int, int, error) {
	size := c.cfg.PageSize
	for {
		conn, err := onePage[T](ctx, c, query, field, map[string]any{"first": size, "offset": 0})
		if errors.Is(err, errTooBig) && size > 1 {
			size = max(1, size/2)
			c.log.InfoContext(ctx, "Tableau query hit a node or time limit; halving the page size", "field", field, "first", size)
			continue
		}
		if err != nil {
			return nil, 0, 0, err
		}
		return conn.Nodes, conn.TotalCount, size, nil
	}
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
	if conn == nil || conn.other {
		return nil, fmt.Errorf("Tableau: the Metadata API answer has no %s", field)
	}
	return conn, nil
}
