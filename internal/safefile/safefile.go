// Package safefile reads and replaces files kcred does not control without
// being led astray by what it finds there: a FIFO, a device or an endless
// file at a configured path must fail with one clear error, not hang an exec
// or fill its memory, and a directory handle opened once keeps every later
// operation in that directory even if its path is swapped for a symlink.
//
// Every open is non-blocking (a FIFO without a writer does not hang it), and
// only regular files are accepted, checked on the open descriptor (fstat), so
// nothing can be swapped between the check and the read.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by every refusal of a file that is not a regular
// file (FIFO, device, socket, directory, or a symlink where none is followed).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped when a file holds more than the caller's limit.
var ErrTooLarge = errors.New("file too large")

// Open opens the file at path for reading, following symlinks, and returns
// it only if it is a regular file.
func Open(path string) (*os.File, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	if err := requireRegular(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file at path (following symlinks), refusing one
// of more than limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// ReadAll reads f to its end, refusing more than limit bytes: the size from
// stat is not trusted, since a file can grow while it is read.
func ReadAll(f *os.File, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", f.Name(), limit, ErrTooLarge)
	}
	return b, nil
}

// requireRegular fails unless the open file f (opened as name) is a regular
// file.
func requireRegular(f *os.File, name string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notRegular(name, fi.Mode())
	}
	return nil
}

func notRegular(name string, mode fs.FileMode) error {
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("is %s, %w", Describe(mode), ErrNotRegular)}
}

// Describe names the kind of file a mode is, for error messages.
func Describe(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode&fs.ModeSymlink != 0:
		return "a symlink"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO, a named pipe"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// Foreign reports whether fi belongs to a user other than root and the one
// kcred runs as: that user could rewrite the file (or directory) at will.
func Foreign(fi fs.FileInfo) bool {
	uid, ok := Owner(fi)
	return ok && uid != 0 && uid != os.Geteuid()
}
