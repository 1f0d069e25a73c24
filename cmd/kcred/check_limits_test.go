//go:build unix

package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
)

// checkPlugins writes a config naming each plugin (matching registry.io) and
// the plugins' scripts into a bin dir, and returns the config and bin dir.
func checkPlugins(t *testing.T, scripts map[string]string) (config, binDir string) {
	t.Helper()
	dir := t.TempDir()
	binDir = filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
	for _, name := range slices.Sorted(maps.Keys(scripts)) {
		cfg += "- name: " + name + "\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  matchImages: [\"registry.io\"]\n  defaultCacheDuration: 10m\n"
		if err := os.WriteFile(filepath.Join(binDir, name), []byte("#!/bin/sh\n"+scripts[name]), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, binDir
}

const checkAnswer = `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","auth":{"registry.io":{"username":"u","password":"PASSWORD"}}}`

// kcred check stops at its --timeout, and keeps at most 1 MiB of each
// output, whatever the plugin does; where the real kubelet would hang (a
// process the plugin started holds its stdout), the report says so.
func TestCheckBoundsPlugins(t *testing.T) {
	bin := exectest.Binary(t)
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{"child holds stdout after the plugin exits",
			"cat >/dev/null\necho '" + checkAnswer + "'\nsleep 1000 &\n",
			"the plugin exited, but a process it started still holds its stdout or stderr open: the kubelet would hang here"},
		{"child holds stdout, plugin killed at the timeout",
			"cat >/dev/null\nsleep 1000 &\nexec sleep 1000\n",
			"context deadline exceeded; the plugin was killed, but a process it started still holds its stdout or stderr open: the kubelet would hang here"},
		{"endless stdout", "exec cat /dev/zero\n", "stdout exceeded 1048576 bytes: kcred check stopped reading it and killed the plugin (the kubelet would buffer all of it in memory"},
		{"endless stderr", "exec cat /dev/zero >&2\n", "stderr exceeded 1048576 bytes"},
		{"plain timeout", "exec sleep 1000\n", "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config, binDir := checkPlugins(t, map[string]string{"p": tt.script})
			res := exectest.Run(t, bin, []string{"check", "--config", config, "--bin-dir", binDir, "--timeout", "2s", "--json", "registry.io/app"}, exectest.CleanEnv(t), "")
			if res.Code != 0 || !strings.Contains(res.Stdout, tt.want) {
				t.Fatalf("exit %d, stdout lacks %q:\n%.2000s\nstderr: %s", res.Code, tt.want, res.Stdout, res.Stderr)
			}
			if res.Wall > 5*time.Second {
				t.Errorf("kcred check took %v with --timeout 2s", res.Wall)
			}
			t.Logf("peak RSS %d MiB, wall %v", res.MaxRSS>>20, res.Wall)
			if res.MaxRSS > 64<<20 {
				t.Errorf("peak RSS %d MiB", res.MaxRSS>>20)
			}
		})
	}
}

// Every password-looking value of every answer is redacted, accepted or not,
// including where the plugin echoes it on stderr.
func TestCheckRedactsRejectedAnswers(t *testing.T) {
	answer := func(pass string) string { return strings.Replace(checkAnswer, "PASSWORD", pass, 1) }
	scripts := map[string]string{
		"exit1":      "cat >/dev/null\necho '" + answer("exit1-secret-value") + "'\necho 'debug: got exit1-secret-value' >&2\nexit 1\n",
		"apiversion": "cat >/dev/null\necho '" + strings.Replace(answer("apiv-secret-value"), "/v1\"", "/v1beta1\"", 1) + "'\necho 'password=apiv-secret-value' >&2\n",
		"unknown":    "cat >/dev/null\necho '" + strings.Replace(answer("unknown-secret-value"), `"auth"`, `"extra":1,"auth"`, 1) + "'\necho 'unknown-secret-value' >&2\n",
		"notjson":    "cat >/dev/null\necho 'password: notjson-secret-value'\necho 'notjson-secret-value' >&2\n",
		"escaped":    "cat >/dev/null\necho '" + answer(`esc\\u0061ped-secret`) + "'\necho 'esca\\ped-secret escaped-secret' >&2\nexit 2\n",
	}
	config, binDir := checkPlugins(t, scripts)
	for _, format := range [][]string{nil, {"--json"}} {
		code, stdout, stderr := runCheckT(append([]string{"--config", config, "--bin-dir", binDir, "registry.io/app"}, format...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, secret := range []string{"exit1-secret-value", "apiv-secret-value", "unknown-secret-value", "notjson-secret-value", "escaped-secret"} {
			if strings.Contains(stdout, secret) {
				t.Errorf("%v: %s in the output:\n%s", format, secret, stdout)
			}
		}
		if !strings.Contains(stdout, "debug: got <redacted>") && !strings.Contains(stdout, `debug: got \u003credacted\u003e`) {
			t.Errorf("%v: echoed stderr not shown redacted:\n%s", format, stdout)
		}
	}
}
