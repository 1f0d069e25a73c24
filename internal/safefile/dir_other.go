//go:build !unix

package safefile

import (
	"io/fs"
	"os"
	"time"
)

// Without openat, names are joined to the directory's path: the same checks
// on the opened file, without protection against a swapped directory.

func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

func openDir(path string) (*os.File, error) { return os.Open(path) }

func (d *Dir) openAt(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(d.join(name)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, notRegular(d.join(name), fs.ModeSymlink)
	}
	return os.OpenFile(d.join(name), flag, perm)
}

// Lstat describes name itself (a symlink is described, not followed).
func (d *Dir) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(d.join(name)) }

// Chtimes sets name's access and modification times to t.
func (d *Dir) Chtimes(name string, t time.Time) error { return os.Chtimes(d.join(name), t, t) }

// Rename renames oldName to newName, both in d.
func (d *Dir) Rename(oldName, newName string) error {
	return os.Rename(d.join(oldName), d.join(newName))
}

// Remove removes the file name.
func (d *Dir) Remove(name string) error { return os.Remove(d.join(name)) }

// Names lists the directory's entries.
func (d *Dir) Names() ([]string, error) {
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Owner is not known on this platform.
func Owner(fs.FileInfo) (uid int, ok bool) { return 0, false }
