// Package fidelity runs the kcred simulator and the real kubelet plugin
// manager (k8s.io/kubernetes v1.37.2, through cmd/kubeletjudge) over the
// shared corpus and fails on any difference.
package fidelity

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/kubeletcorpus"
	"github.com/kcred/kcred/kubelet"
)

var judge string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubeletjudge-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	judge = filepath.Join(dir, "kubeletjudge")
	out, err := exec.Command("go", "build", "-o", judge, "./cmd/kubeletjudge").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/kubeletjudge: %v\n%s", err, out)
		os.Exit(1)
	}
	// The kubelet's environment reaches the plugins; the corpus checks that
	// a provider's env overrides it.
	os.Setenv("KCRED_CORPUS_ENV", "from-kubelet")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestCorpus(t *testing.T) {
	for _, sc := range kubeletcorpus.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			m, err := sc.Materialize(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			opts := kubelet.CheckOptions{Config: m.Config, BinDir: m.BinDir, Images: sc.Images}
			args := []string{"--config", m.Config, "--bin-dir", m.BinDir, "--exec-log", m.ExecLog}
			if sa := sc.ServiceAccount; sa != nil {
				opts.Pod = kubelet.Pod{Namespace: sa.Namespace, Name: "pod", UID: "pod-uid", ServiceAccount: &kubelet.ServiceAccount{Name: sa.Name, UID: sa.UID, Annotations: sa.Annotations, Token: sa.Token}}
				args = append(args, "--service-account", sa.Namespace+"/"+sa.Name, "--sa-uid", sa.UID)
				for k, v := range sa.Annotations {
					args = append(args, "--sa-annotation", k+"="+v)
				}
				if sa.Token != "" {
					tok := filepath.Join(t.TempDir(), "token")
					if err := os.WriteFile(tok, []byte(sa.Token), 0o600); err != nil {
						t.Fatal(err)
					}
					args = append(args, "--sa-token", tok)
				}
			}

			sim := kubelet.Check(context.Background(), opts)
			simLog := readAndTruncate(t, m.ExecLog)

			cmd := exec.Command(judge, append(args, sc.Images...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("kubeletjudge: %v\n%s", err, stderr.String())
			}
			var real kubelet.Report
			if err := json.Unmarshal(out, &real); err != nil {
				t.Fatalf("kubeletjudge output: %v\n%s", err, out)
			}
			realLog := readAndTruncate(t, m.ExecLog)

			if got, want := comparable(sim), comparable(&real); got != want {
				t.Errorf("simulator and kubelet differ\nsimulator:\n%s\nkubelet:\n%s", got, want)
			}
			if simLog != realLog {
				t.Errorf("execs and requests differ\nsimulator:\n%s\nkubelet:\n%s", simLog, realLog)
			}
			if len(sc.Images) > 0 && real.Error == "" && len(real.Images) != len(sc.Images) {
				t.Errorf("kubelet looked up %d images, want %d", len(real.Images), len(sc.Images))
			}
		})
	}
}

// comparable renders what both sides can observe: the start-up error, per
// image whether it parsed and its repository, per provider the match, exec,
// cache hit, skip and error class, and the credentials in order.
func comparable(r *kubelet.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "startup error: %q\n", r.Error)
	for _, img := range r.Images {
		fmt.Fprintf(&b, "image %s -> %q (invalid: %v)\n", img.Image, img.Normalized, img.Error != "")
		for _, p := range img.Providers {
			fmt.Fprintf(&b, "  %s matched=%v executed=%v cacheHit=%v skipped=%v error=%s\n", p.Name, p.Matched, p.Executed, p.CacheHit, p.Skipped != "", p.ErrorClass)
			// The text of an error coming from the API server (service
			// account, token request) is the judge's own; others are the
			// kubelet's and must be identical.
			if p.Error != "" && !strings.HasPrefix(p.ErrorClass, "serviceAccount") {
				fmt.Fprintf(&b, "    %s\n", p.Error)
			}
		}
		for _, c := range img.Credentials {
			fmt.Fprintf(&b, "  cred %s:%s\n", c.Username, c.Password)
		}
	}
	return b.String()
}

func readAndTruncate(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return string(b)
}
