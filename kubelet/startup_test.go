package kubelet

import (
	"path/filepath"
	"testing"

	"github.com/kcred/kcred/internal/kubeletcorpus"
)

func TestStartup(t *testing.T) {
	good := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  matchImages: [registry.io]\n  defaultCacheDuration: 1m\n"
	cases := []struct {
		name string
		sc   kubeletcorpus.Scenario
		want func(m kubeletcorpus.Materialized) string
	}{
		{"ok", kubeletcorpus.Scenario{Files: map[string]string{"c.yaml": good}, Plugins: map[string]kubeletcorpus.Plugin{"p": {}}},
			func(kubeletcorpus.Materialized) string { return "" }},
		{"bin dir missing", kubeletcorpus.Scenario{Files: map[string]string{"c.yaml": good}, NoBinDir: true},
			func(m kubeletcorpus.Materialized) string {
				return "plugin binary directory " + m.BinDir + " did not exist"
			}},
		{"binary missing (the kubelet prints an empty path)", kubeletcorpus.Scenario{Files: map[string]string{"c.yaml": good}, Plugins: map[string]kubeletcorpus.Plugin{"q": {}}},
			func(kubeletcorpus.Materialized) string { return "plugin binary executable  did not exist" }},
		{"binary not executable", kubeletcorpus.Scenario{Files: map[string]string{"c.yaml": good}, Plugins: map[string]kubeletcorpus.Plugin{"p": {NotExecutable: true}}},
			func(m kubeletcorpus.Materialized) string {
				return `error inspecting binary executable : exec: "` + filepath.Join(m.BinDir, "p") + `": permission denied`
			}},
		{"config checked before binaries", kubeletcorpus.Scenario{Files: map[string]string{"c.yaml": good + "  bogus: 1\n"}},
			func(m kubeletcorpus.Materialized) string {
				return `error decoding config "` + m.Config + `": strict decoding error: unknown field "providers[0].bogus"`
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.sc.Materialize(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			_, err = Startup(m.Config, m.BinDir)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if want := c.want(m); got != want {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		})
	}
}
