package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrInUse means another server process already serves the database.
var ErrInUse = errors.New("another dbtexposures-server process serves this database")

// LockForServing makes this process the one server of the database, until
// Close: the server keeps its sync locks, schedule and heavy-work slots in
// its own memory, so a second server on one database would sync and refresh
// twice, and is refused. One-off commands (admin) need no lock.
func (s *Store) LockForServing() error {
	if s.db.postgres {
		return s.lockPostgres()
	}
	f, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w (SQLite file %s): stop the other process first", ErrInUse, s.path)
		}
		return err
	}
	s.lockFile = f
	return nil
}

// serveLock is the advisory lock a PostgreSQL database's one server holds.
const serveLock = 7269697

// lockPostgres holds a session advisory lock on a connection of its own.
func (s *Store) lockPostgres() error {
	ctx := context.Background()
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, serveLock).Scan(&got); err != nil {
		conn.Close()
		return err
	}
	if !got {
		conn.Close()
		return fmt.Errorf("%w (PostgreSQL): stop the other process first; several replicas on one database are not supported yet", ErrInUse)
	}
	unlock := func() error {
		// Explicitly: a closed connection's session, and its lock, end only
		// when PostgreSQL notices.
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, serveLock)
		return conn.Close()
	}
	s.close = append([]func() error{unlock}, s.close...)
	return nil
}
