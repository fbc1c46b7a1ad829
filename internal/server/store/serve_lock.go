package store

import (
	"errors"
	"fmt"
	"os"
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
	if busy, err := lockExclusive(f); err != nil || busy {
		f.Close()
		if busy {
			return fmt.Errorf("%w (SQLite file %s): stop the other process first", ErrInUse, s.path)
		}
		return err
	}
	s.lockFile = f
	return nil
}
