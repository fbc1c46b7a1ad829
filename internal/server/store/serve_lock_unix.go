//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockExclusive takes f's exclusive lock without waiting; busy means another
// process holds it. The lock ends with the process, however it ends.
func lockExclusive(f *os.File) (busy bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
