package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a directory opened once. Names given to its methods are single path
// elements resolved relative to the open handle (on Unix), so replacing the
// directory's path with a symlink after OpenDir cannot redirect them, and a
// symlink planted at a name is never followed.
type Dir struct {
	f    *os.File
	path string
}

// OpenDir opens the directory at path (following symlinks in it; callers
// that must refuse a symlinked directory compare Lstat with Stat).
func OpenDir(path string) (*Dir, error) {
	f, err := openDir(path)
	if err != nil {
		return nil, err
	}
	return &Dir{f: f, path: path}, nil
}

// Path is the path the directory was opened as, for messages.
func (d *Dir) Path() string { return d.path }

// Stat describes the open directory itself (fstat: the directory opened, not
// whatever its path names now).
func (d *Dir) Stat() (fs.FileInfo, error) { return d.f.Stat() }

// Close releases the handle.
func (d *Dir) Close() error { return d.f.Close() }

// Sync makes renames and removals in the directory durable.
func (d *Dir) Sync() error {
	if err := d.f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// Open opens the regular file name for reading, without following a symlink
// or blocking on a FIFO.
func (d *Dir) Open(name string) (*os.File, error) {
	return d.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens name with flag (os.O_* flags; O_CREATE creates it with
// perm), never following a symlink and never blocking on a FIFO, and returns
// it only if it is a regular file.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := d.openAt(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if err := requireRegular(f, d.join(name)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file name, refusing more than limit bytes.
func (d *Dir) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// CreateTemp creates a new file, mode 0600, whose name is prefix followed by
// random characters, and returns it and its name.
func (d *Dir) CreateTemp(prefix string) (*os.File, string, error) {
	for i := 0; ; i++ {
		name := prefix + RandomSuffix()
		f, err := d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) || i == 9 {
			return nil, "", err
		}
	}
}

// RandomSuffix is 16 random hex characters, for temporary names.
func RandomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *Dir) join(name string) string { return filepath.Join(d.path, name) }
