package main

import (
	"bytes"
	"debug/elf"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
)

// releaseVersion is stamped by the tests' release builds, to see it printed.
const releaseVersion = "v1.2.3-test"

// The release binaries (`make binaries`, which `make release` runs) built
// twice into two directories are byte for byte the same, static, stamped
// with VERSION, and answer with it as the tool and as every role. The
// second build reuses the first's compiled packages (a cold rebuild of
// every platform would take minutes): what it proves is that linking adds
// nothing that varies (build ID, paths, time, VCS state). linux/arm64 is
// left to `make release`: it takes the same path as linux/amd64.
func TestReleaseReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds kcred twice")
	}
	platforms := "PLATFORMS=linux/amd64 windows/amd64"
	a, b := t.TempDir(), t.TempDir()
	exectest.Make(t, "binaries", "DIST="+a, platforms, "VERSION="+releaseVersion)
	exectest.Make(t, "binaries", "DIST="+b, platforms, "VERSION="+releaseVersion)
	for _, name := range []string{"kcred-linux-amd64", "kcred-windows-amd64.exe"} {
		one, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		two, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one, two) {
			t.Errorf("%s: two builds differ (%d and %d bytes)", name, len(one), len(two))
		}
		if bytes.Contains(one, []byte(moduleDir(t))) {
			t.Errorf("%s holds the build directory %s", name, moduleDir(t))
		}
	}

	linux := filepath.Join(a, "kcred-linux-amd64")
	f, err := elf.Open(linux)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("kcred-linux-amd64 is dynamically linked (%v)", p.Type)
		}
	}
	f.Close()
	w, err := pe.Open(filepath.Join(a, "kcred-windows-amd64.exe"))
	if err != nil {
		t.Fatalf("kcred-windows-amd64.exe is not a PE executable: %v", err)
	}
	if w.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("kcred-windows-amd64.exe: machine %#x, want amd64", w.Machine)
	}
	w.Close()

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return
	}
	if out, err := exec.Command(linux, "version").Output(); err != nil || string(out) != "kcred "+releaseVersion+"\n" {
		t.Errorf("kcred version: %q %v, want %q", out, err, "kcred "+releaseVersion)
	}
	dir := t.TempDir()
	for _, r := range roles {
		for _, name := range append([]string{r.Name}, r.Aliases...) {
			link := filepath.Join(dir, name)
			if err := os.Symlink(linux, link); err != nil {
				t.Fatal(err)
			}
			want := r.Name + " (kcred) " + releaseVersion
			if out, err := exec.Command(link, "--version").Output(); err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("%s --version: %q %v, want %q", name, out, err, want)
			}
		}
	}
}

// moduleDir is the repository root as this test sees it.
func moduleDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
