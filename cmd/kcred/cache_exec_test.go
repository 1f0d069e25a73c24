//go:build unix

package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// The node binary against what others may leave in its token cache
// directory: planted symlinks and FIFOs, edited entries. Each exec still
// answers within seconds, fetching when the cache holds nothing it trusts,
// and never touches what a planted link points at.
func TestCacheTrustsNothingOnDiskExec(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	t.Cleanup(srv.Close)
	bin := exectest.Link(t, "ecr-credential-provider")
	cache := filepath.Join(t.TempDir(), "cache")
	env := withCacheDir(exectest.CleanEnv(t), cache)
	env = append(append(append(env, fakecloud.Env(srv.URL)...), aws.StaticEnv()...), "AWS_REGION=eu-west-3")
	image := "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app"
	outside := t.TempDir()

	fetches := 0
	exec := func(t *testing.T, wantFetch bool) string {
		t.Helper()
		res := exectest.Run(t, bin, []string{"get-credentials"}, env, request("credentialprovider.kubelet.k8s.io/v1", image))
		if res.Code != 0 || res.Stderr != "" || res.Wall > 10*time.Second {
			t.Fatalf("exit %d after %v, stderr %q", res.Code, res.Wall, res.Stderr)
		}
		if wantFetch {
			fetches++
		}
		if n := aws.Count(fakecloud.OpECRToken); n != fetches {
			t.Fatalf("ECR calls = %d, want %d", n, fetches)
		}
		return res.Stdout
	}
	only := func(t *testing.T, glob string) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(cache, glob))
		if len(m) != 1 {
			t.Fatalf("cache files %s: %v", glob, m)
		}
		return m[0]
	}

	// A symlinked sweep marker: the cold exec neither truncates nor touches
	// its target.
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(outside, "precious")
	writeFile(t, precious, "precious")
	if err := os.Symlink(precious, filepath.Join(cache, ".last-prune")); err != nil {
		t.Fatal(err)
	}
	exec(t, true)
	if b, _ := os.ReadFile(precious); string(b) != "precious" {
		t.Fatalf("the marker link's target was written: %q", b)
	}
	exec(t, false)

	entry := only(t, "*.json")
	edit := func(t *testing.T, from, to string) {
		t.Helper()
		b, err := os.ReadFile(entry)
		if err != nil {
			t.Fatal(err)
		}
		edited := regexp.MustCompile(from).ReplaceAllString(string(b), to)
		if edited == string(b) {
			t.Fatalf("nothing to edit in %s", b)
		}
		writeFile(t, entry, edited)
	}
	t.Run("expiry edited to 9999", func(t *testing.T) {
		edit(t, `"expiresAt":"[^"]*"`, `"expiresAt":"9999-01-01T00:00:00Z"`)
		out := exec(t, true)
		if strings.Contains(out, "9999") || strings.Contains(out, "2562047h") {
			t.Fatalf("edited expiry served: %s", out)
		}
	})
	t.Run("username edited empty", func(t *testing.T) {
		edit(t, `"username":"[^"]*"`, `"username":""`)
		exec(t, true)
	})
	t.Run("entry replaced by a FIFO", func(t *testing.T) {
		if err := os.Remove(entry); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(entry, 0o600); err != nil {
			t.Fatal(err)
		}
		exec(t, true)
		exec(t, false)
	})
	t.Run("lock replaced by a symlink", func(t *testing.T) {
		lock := only(t, "*.lock")
		target := filepath.Join(outside, "created")
		if err := os.Remove(lock); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, lock); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(entry); err != nil {
			t.Fatal(err)
		}
		exec(t, true)
		if _, err := os.Lstat(target); !os.IsNotExist(err) {
			t.Fatalf("the lock link's target was created (%v)", err)
		}
	})
}

// A cache directory kcred refuses (its parent writable by anyone) is an
// Info-level matter: at --v=0 a failing exec prints its one line, nothing
// about the cache.
func TestRefusedCacheDirIsQuietExec(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := exectest.Link(t, "dockerconfig-credential-provider")
	env := withCacheDir(exectest.CleanEnv(t), filepath.Join(parent, "cache"))
	res := exectest.Run(t, bin, []string{"--config", filepath.Join(parent, "absent.json")}, env, request("credentialprovider.kubelet.k8s.io/v1", "registry.example.com/app"))
	if res.Code != 1 || strings.Count(res.Stderr, "\n") != 1 || strings.Contains(res.Stderr, "cache") {
		t.Fatalf("exit %d, stderr %q; want one line, without the cache", res.Code, res.Stderr)
	}
	res = exectest.Run(t, bin, []string{"--v=1", "--config", filepath.Join(parent, "absent.json")}, env, request("credentialprovider.kubelet.k8s.io/v1", "registry.example.com/app"))
	if !strings.Contains(res.Stderr, "token cache disabled") || !strings.Contains(res.Stderr, "writable by other users and not sticky") {
		t.Fatalf("--v=1 stderr lacks the reason the cache is off: %q", res.Stderr)
	}
}

// withCacheDir is env with KCRED_CACHE_DIR set to dir (replacing
// CleanEnv's: a child reads the first of duplicates).
func withCacheDir(env []string, dir string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KCRED_CACHE_DIR=") {
			out = append(out, kv)
		}
	}
	return append(out, "KCRED_CACHE_DIR="+dir)
}
