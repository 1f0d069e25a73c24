//go:build !unix

package tokencache

import (
	"errors"
	"os"
)

// Without flock, concurrent cold execs each fetch: correct, only less frugal.
var errWouldBlock = errors.New("file locking unsupported")

func tryLock(*os.File) error    { return errors.ErrUnsupported }
func unlockFile(*os.File) error { return nil }
