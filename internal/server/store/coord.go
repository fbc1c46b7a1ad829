package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// What a lock guards: its class, beside a key (a project, an account's slot).
const (
	LockSync  int64 = 1 // one sync of a project at a time
	LockHeavy int64 = 2 // an account's slots for heavy work
	LockRun   int64 = 3 // one active exposure run of a project at a time
)

// localLocks are the locks of a SQLite database: one server process serves
// it (LockForServing), so its own memory is where every server looks. A key
// is kept only while someone holds or waits for it.
type localLocks struct {
	mu   sync.Mutex
	held map[[2]int64]*localLock
}

type localLock struct {
	ch    chan struct{}
	users int // holders and waiters
}

func (l *localLocks) get(class, key int64) *localLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[[2]int64]*localLock{}
	}
	k := [2]int64{class, key}
	if l.held[k] == nil {
		l.held[k] = &localLock{ch: make(chan struct{}, 1)}
	}
	l.held[k].users++
	return l.held[k]
}

func (l *localLocks) put(class, key int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]int64{class, key}
	if l.held[k].users--; l.held[k].users == 0 {
		delete(l.held, k)
	}
}

// acquire takes the lock; with wait unset only if it is free.
func (l *localLocks) acquire(ctx context.Context, class, key int64, wait bool) (func(), bool, error) {
	x := l.get(class, key)
	release := func() { <-x.ch; l.put(class, key) }
	select {
	case x.ch <- struct{}{}:
		return release, true, nil
	default:
	}
	if !wait {
		l.put(class, key)
		return nil, false, nil
	}
	select {
	case x.ch <- struct{}{}:
		return release, true, nil
	case <-ctx.Done():
		l.put(class, key)
		return nil, false, ctx.Err()
	}
}

// LocalLocks counts the keys a SQLite database's locks keep: none once
// nobody holds or waits for one.
func (s *Store) LocalLocks() int {
	s.locks.mu.Lock()
	defer s.locks.mu.Unlock()
	return len(s.locks.held)
}

// TryLock takes a lock that every server process on the database sees, if
// it is free. On PostgreSQL it is a session advisory lock on a connection
// held until release: a replica that dies releases its locks with its
// connection, so no lock outlives its holder.
func (s *Store) TryLock(ctx context.Context, class, key int64) (release func(), ok bool, err error) {
	if !s.db.postgres {
		return s.locks.acquire(ctx, class, key, false)
	}
	return s.advisoryLock(ctx, `SELECT pg_try_advisory_lock(?)`, class, key)
}

// Lock waits for the lock until ctx ends.
func (s *Store) Lock(ctx context.Context, class, key int64) (release func(), err error) {
	if !s.db.postgres {
		release, _, err = s.locks.acquire(ctx, class, key, true)
		return release, err
	}
	release, _, err = s.advisoryLock(ctx, `SELECT true FROM (SELECT pg_advisory_lock(?)) AS waited`, class, key)
	return release, err
}

// advisoryLock runs a locking query on a connection of its own, kept until
// release. The key's class is in its high bits.
func (s *Store) advisoryLock(ctx context.Context, query string, class, key int64) (func(), bool, error) {
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	k := class<<48 | key&(1<<48-1)
	var got bool
	if err := conn.QueryRowContext(ctx, bind(query, true), k).Scan(&got); err != nil {
		conn.Close()
		return nil, false, err
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	s.hold(conn, true)
	return func() {
		if !s.hold(conn, false) {
			return // Close has given the connection back already
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, bind(`SELECT pg_advisory_unlock(?)`, true), k)
		conn.Close()
	}, true, nil
}

// hold records a lock's connection as held, or no longer held (reporting
// whether it was). Close gives held connections back, so that the pool can
// close them, and their sessions' locks with them.
func (s *Store) hold(conn *sql.Conn, held bool) bool {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	if s.held == nil {
		s.held = map[*sql.Conn]bool{}
	}
	was := s.held[conn]
	if held {
		s.held[conn] = true
	} else {
		delete(s.held, conn)
	}
	return was
}

// releaseHeld gives every held lock's connection back to the pool.
func (s *Store) releaseHeld() {
	s.heldMu.Lock()
	held := s.held
	s.held = nil
	s.heldMu.Unlock()
	for conn := range held {
		conn.Close()
	}
}

// RequestSync records that a project needs a sync and returns the
// request's number: a sync that starts after it covers it.
func (s *Store) RequestSync(ctx context.Context, projectID int64) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO sync_state(project_id, requested, done, due_at) VALUES(?, 1, 0, '')
		ON CONFLICT(project_id) DO UPDATE SET requested = sync_state.requested + 1 RETURNING requested`, projectID).Scan(&n)
	return n, err
}

// SyncState is the last sync request's number and the last one a finished
// sync covered.
func (s *Store) SyncState(ctx context.Context, projectID int64) (requested, done int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT requested, done FROM sync_state WHERE project_id = ?`, projectID).Scan(&requested, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return requested, done, err
}

// SyncDone records that a sync covered the requests up to upto.
func (s *Store) SyncDone(ctx context.Context, projectID, upto int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sync_state SET done = ? WHERE project_id = ? AND done < ?`, upto, projectID, upto)
	return err
}

// ClaimScheduled reports whether this server is the one to run the
// project's scheduled sync now: the first to ask once it is due, whichever
// replica, moves it interval on. A project seen for the first time is due
// after interval.
func (s *Store) ClaimScheduled(ctx context.Context, projectID int64, interval time.Duration, now time.Time) (bool, error) {
	next := now.Add(interval).UTC().Format(timeLayout)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sync_state(project_id, requested, done, due_at) VALUES(?, 0, 0, ?)
		ON CONFLICT(project_id) DO UPDATE SET due_at = ? WHERE sync_state.due_at = ''`, projectID, next, next); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sync_state SET due_at = ? WHERE project_id = ? AND due_at <= ?`,
		next, projectID, now.UTC().Format(timeLayout))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// timeLayout writes times that sort as text: fixed width, UTC.
const timeLayout = "2006-01-02T15:04:05.000000Z"
