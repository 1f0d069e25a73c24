package install

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The Windows mode (Options.Windows), run on any OS: NAME.exe files, each a
// copy of kcred.exe, never a symlink.
func TestRunWindows(t *testing.T) {
	both := []Link{{"role-a", "role-a"}, {"role-b", "role-b"}}
	cases := []struct {
		name   string
		setup  func(t *testing.T, bin string)
		want   []string // output lines (substrings), BIN for the bin dir
		notOut []string
		kept   []string // files that must hold a kept previous content
	}{{
		name: "fresh dir",
		want: []string{"installed BIN/kcred.exe", "copied kcred.exe to BIN/role-a.exe", "copied kcred.exe to BIN/role-b.exe", "verified BIN/role-a.exe: answers as role-a (kcred) test"},
	}, {
		name: "idempotent rerun",
		setup: func(t *testing.T, bin string) {
			for _, n := range []string{"kcred.exe", "role-a.exe", "role-b.exe"} {
				write(t, filepath.Join(bin, n), fakeKcred, 0o755)
			}
		},
		want:   []string{"unchanged BIN/kcred.exe", "unchanged BIN/role-a.exe (a copy of kcred.exe)", "unchanged BIN/role-b.exe (a copy of kcred.exe)"},
		notOut: []string{"installed", "copied"},
	}, {
		name: "upgrade replaces the copies of the old kcred without keeping them",
		setup: func(t *testing.T, bin string) {
			for _, n := range []string{"kcred.exe", "role-a.exe", "role-b.exe"} {
				write(t, filepath.Join(bin, n), fakeKcred+"# old\n", 0o755)
			}
		},
		want:   []string{"installed BIN/kcred.exe", "copied kcred.exe to BIN/role-a.exe (replaced the previous kcred)"},
		notOut: []string{"kept as"},
	}, {
		name: "an upstream plugin is kept",
		setup: func(t *testing.T, bin string) {
			write(t, filepath.Join(bin, "role-a.exe"), "upstream", 0o755)
		},
		want: []string{"copied kcred.exe to BIN/role-a.exe (replaced a file, kept as role-a.exe.kcred-previous)", "copied kcred.exe to BIN/role-b.exe"},
		kept: []string{"role-a.exe.kcred-previous"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			self, bin := filepath.Join(root, "self"), filepath.Join(root, "bin")
			write(t, self, fakeKcred, 0o755)
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.setup != nil {
				c.setup(t, bin)
			}
			var out []string
			o := Options{Self: self, BinDir: bin, Links: both, Version: "test", Windows: true}
			if err := Run(context.Background(), o, func(s string) { out = append(out, s) }); err != nil {
				t.Fatalf("Run: %v\n%s", err, strings.Join(out, "\n"))
			}
			text := strings.Join(out, "\n")
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "BIN", bin); !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			for _, w := range c.notOut {
				if strings.Contains(text, w) {
					t.Errorf("output has %q:\n%s", w, text)
				}
			}
			for _, n := range []string{"kcred.exe", "role-a.exe", "role-b.exe"} {
				p := filepath.Join(bin, n)
				fi, err := os.Lstat(p)
				if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
					t.Errorf("%s: %v %v, want a regular file of mode 0755", n, fi, err)
					continue
				}
				if read(t, p) != fakeKcred {
					t.Errorf("%s is not a copy of the new binary", n)
				}
			}
			entries, _ := os.ReadDir(bin)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			want := append([]string{"kcred.exe", "role-a.exe", "role-b.exe"}, c.kept...)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("bin dir holds %v, want %v", names, want)
			}
		})
	}
}
