// Package atomicfile replaces files so that a reader sees the old content or
// the new, never a mix: write a synced temporary file in the same directory,
// rename it over the name, sync the directory. The *In variants work inside
// a directory handle (safefile.Dir), so a directory path swapped for a
// symlink meanwhile cannot redirect the write.
package atomicfile

import (
	"bytes"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/kcred/kcred/internal/safefile"
)

// Write replaces dir/name with data, mode perm. The temporary file's name
// starts with prefix, so a sweep can recognise one a killed process left.
func Write(dir, name, prefix string, data []byte, perm fs.FileMode) error {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return WriteIn(d, name, prefix, data, perm)
}

// WriteIn is Write inside the open directory d.
func WriteIn(d *safefile.Dir, name, prefix string, data []byte, perm fs.FileMode) error {
	tmp, err := TempFileIn(d, prefix, bytes.NewReader(data), perm)
	if err != nil {
		return err
	}
	if err := d.Rename(tmp, name); err != nil {
		_ = d.Remove(tmp)
		return err
	}
	return d.Sync()
}

// TempFile writes r to a new file in dir whose name starts with prefix,
// synced, with mode perm, and returns its path; on error nothing is left.
func TempFile(dir, prefix string, r io.Reader, perm fs.FileMode) (path string, err error) {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	name, err := TempFileIn(d, prefix, r, perm)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// TempFileIn is TempFile inside the open directory d; it returns the new
// file's name in d. The file is created 0600 (exclusively, never through a
// planted symlink) and only then given perm, so a secret is never readable by
// others while it is written.
func TempFileIn(d *safefile.Dir, prefix string, r io.Reader, perm fs.FileMode) (_ string, err error) {
	f, name, err := d.CreateTemp(prefix)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = d.Remove(name)
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Chmod(perm); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return name, nil
}

// SyncDir makes the renames in dir durable.
func SyncDir(dir string) error {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
