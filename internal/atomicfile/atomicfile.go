// Package atomicfile replaces files so that a reader sees the old content or
// the new, never a mix: write a synced temporary file in the same directory,
// rename it over the name, sync the directory.
package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces dir/name with data, mode perm. The temporary file's name
// starts with prefix, so a sweep can recognise one a killed process left.
func Write(dir, name, prefix string, data []byte, perm fs.FileMode) error {
	tmp, err := TempFile(dir, prefix, bytes.NewReader(data), perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// TempFile writes r to a new file in dir whose name starts with prefix,
// synced, with mode perm, and returns its path; on error nothing is left.
// The file is created 0600 and only then given perm, so a secret is never
// readable by others while it is written.
func TempFile(dir, prefix string, r io.Reader, perm fs.FileMode) (path string, err error) {
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
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
	return f.Name(), nil
}

// SyncDir makes the renames in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
