package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrInUse means another server process already serves the database.
var ErrInUse = errors.New("another dbtexposures-server process serves this database")

// LockForServing makes this process the one server of a SQLite file, until
// Close: a SQLite file's locks live in its server's memory (coord.go), so a
// second server on the file is refused. PostgreSQL takes any number of
// servers: they coordinate through the database. One-off commands (admin)
// need no lock.
func (s *Store) LockForServing() error {
	if s.db.postgres {
		return nil
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
