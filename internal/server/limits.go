package server

import (
	"context"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// heavyPerAccount bounds the manifest uploads and exposure syncs (the server's
// costly work: parsing tens of MB, reading Tableau) that one account runs at once.
const heavyPerAccount = 2

// accountSlots hands out at most heavyPerAccount slots per account. An
// account's entry lives while someone holds or waits for a slot, so the map
// holds only accounts at work.
type accountSlots struct {
	mu sync.Mutex
	by map[int64]*slots
}

type slots struct {
	ch    chan struct{}
	users int // holders and waiters
}

func (a *accountSlots) get(accountID int64) *slots {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by == nil {
		a.by = map[int64]*slots{}
	}
	s := a.by[accountID]
	if s == nil {
		s = &slots{ch: make(chan struct{}, heavyPerAccount)}
		a.by[accountID] = s
	}
	s.users++
	return s
}

func (a *accountSlots) put(accountID int64, s *slots) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(a.by, accountID)
	}
}

func (a *accountSlots) releaser(accountID int64, s *slots) func() {
	return func() {
		<-s.ch
		a.put(accountID, s)
	}
}

// tryAcquire takes a slot if one is free, for requests that would rather be
// answered 429 than queue.
func (a *accountSlots) tryAcquire(accountID int64) (release func(), ok bool) {
	s := a.get(accountID)
	select {
	case s.ch <- struct{}{}:
		return a.releaser(accountID, s), true
	default:
		a.put(accountID, s)
		return nil, false
	}
}

// acquire waits for a slot, for background work.
func (a *accountSlots) acquire(ctx context.Context, accountID int64) (release func(), err error) {
	s := a.get(accountID)
	select {
	case s.ch <- struct{}{}:
		return a.releaser(accountID, s), nil
	case <-ctx.Done():
		a.put(accountID, s)
		return nil, ctx.Err()
	}
}

// keyedLocks is one mutex per key (a project), kept only while someone holds
// or waits for it.
type keyedLocks struct {
	mu sync.Mutex
	by map[int64]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock locks key's mutex and returns its unlock.
func (k *keyedLocks) lock(key int64) func() {
	k.mu.Lock()
	if k.by == nil {
		k.by = map[int64]*keyedLock{}
	}
	l := k.by[key]
	if l == nil {
		l = &keyedLock{}
		k.by[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		defer k.mu.Unlock()
		if l.users--; l.users == 0 {
			delete(k.by, key)
		}
	}
}

// size is how many keys are held or waited for.
func (k *keyedLocks) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.by)
}

// held is how many slots an account holds now.
func (a *accountSlots) held(accountID int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.by[accountID]; s != nil {
		return len(s.ch)
	}
	return 0
}

// accounts is how many accounts hold or wait for a slot.
func (a *accountSlots) accounts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.by)
}

// tryHeavy takes one of the account's slots for heavy work if one is free,
// in this process and in the database, so the bound holds across replicas.
func (s *Server) tryHeavy(ctx context.Context, accountID int64) (release func(), ok bool) {
	local, ok := s.heavy.tryAcquire(accountID)
	if !ok {
		return nil, false
	}
	shared, ok := s.sharedSlot(ctx, accountID)
	if !ok {
		local()
		return nil, false
	}
	return func() { shared(); local() }, true
}

// acquireHeavy waits for a slot, for background work.
func (s *Server) acquireHeavy(ctx context.Context, accountID int64) (release func(), err error) {
	local, err := s.heavy.acquire(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		if shared, ok := s.sharedSlot(ctx, accountID); ok {
			return func() { shared(); local() }, nil
		}
		if err := transport.Sleep(ctx, wait); err != nil {
			local()
			return nil, err
		}
	}
}

// sharedSlot takes one of the account's slots in the database, if free.
func (s *Server) sharedSlot(ctx context.Context, accountID int64) (func(), bool) {
	for slot := int64(0); slot < heavyPerAccount; slot++ {
		release, ok, err := s.store.TryLock(ctx, store.LockHeavy, accountID*heavyPerAccount+slot)
		if err != nil {
			s.log.Warn("taking a slot for heavy work", "account_id", accountID, "error", err.Error())
			return nil, false
		}
		if ok {
			return release, true
		}
	}
	return nil, false
}
