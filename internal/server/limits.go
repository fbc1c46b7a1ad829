package server

import (
	"context"
	"sync"
)

// heavyPerAccount bounds the manifest uploads and exposure syncs (the server's
// costly work: parsing tens of MB, reading Tableau) that one account runs at once.
const heavyPerAccount = 2

// accountSlots hands out at most heavyPerAccount slots per account.
type accountSlots struct {
	mu sync.Mutex
	by map[int64]chan struct{}
}

func (a *accountSlots) slots(accountID int64) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by == nil {
		a.by = map[int64]chan struct{}{}
	}
	if a.by[accountID] == nil {
		a.by[accountID] = make(chan struct{}, heavyPerAccount)
	}
	return a.by[accountID]
}

// tryAcquire takes a slot if one is free, for requests that would rather be
// answered 429 than queue.
func (a *accountSlots) tryAcquire(accountID int64) (release func(), ok bool) {
	s := a.slots(accountID)
	select {
	case s <- struct{}{}:
		return func() { <-s }, true
	default:
		return nil, false
	}
}

// acquire waits for a slot, for background work.
func (a *accountSlots) acquire(ctx context.Context, accountID int64) (release func(), err error) {
	s := a.slots(accountID)
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
