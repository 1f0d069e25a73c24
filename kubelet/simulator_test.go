package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/kubeletcorpus"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

const respV1 = `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"%KT","cacheDuration":"%D","auth":{"registry.io":{"username":"u","password":"p"}}}`

func answer(kt, d string) kubeletcorpus.Plugin {
	s := strings.NewReplacer("%KT", kt, "%D", d).Replace(respV1)
	if d == "" {
		s = strings.Replace(s, `,"cacheDuration":""`, "", 1)
	}
	return kubeletcorpus.Plugin{Stdout: s}
}

// setup materialises one v1 provider "p" and returns a simulator with a fake
// clock and the exec log path.
func setup(t *testing.T, defaultCacheDuration string, extra string, plugin kubeletcorpus.Plugin) (*Simulator, *fakeClock, string) {
	t.Helper()
	sc := kubeletcorpus.Scenario{
		Files:   map[string]string{"c.yaml": "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  matchImages: [\"registry.io\", \"*.registry.io\"]\n  defaultCacheDuration: " + defaultCacheDuration + "\n" + extra},
		Plugins: map[string]kubeletcorpus.Plugin{"p": plugin},
	}
	m, err := sc.Materialize(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Startup(m.Config, m.BinDir)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	sim := NewSimulator(cfg, m.BinDir)
	sim.Now = clock.Now
	return sim, clock, m.ExecLog
}

func execCount(t *testing.T, log string) int {
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return kubeletcorpus.Execs(b)["p"]
}

func TestCacheExpiry(t *testing.T) {
	sim, clock, log := setup(t, "10m", "", answer("Registry", "1h"))
	ctx := context.Background()
	steps := []struct {
		advance  time.Duration
		image    string
		hit      bool
		execs    int
		cacheKey string
	}{
		{0, "registry.io/a", false, 1, "registry.io"},
		{30 * time.Minute, "registry.io/b", true, 1, "registry.io"}, // Registry answer serves another repository
		{30 * time.Minute, "registry.io/a", true, 1, "registry.io"}, // valid at exactly expiresAt
		{time.Nanosecond, "registry.io/a", false, 2, "registry.io"}, // expired
	}
	for i, s := range steps {
		clock.t = clock.t.Add(s.advance)
		r := sim.Lookup(ctx, s.image)
		p := r.Providers[0]
		if p.CacheHit != s.hit || p.Executed == s.hit || execCount(t, log) != s.execs || p.CacheKey != s.cacheKey || p.Error != "" {
			t.Fatalf("step %d: %+v, execs %d", i, p, execCount(t, log))
		}
		if len(r.Credentials) != 1 || r.Credentials[0] != (Credential{Key: "registry.io", Provider: "p", Username: "u", Password: "p"}) {
			t.Fatalf("step %d: credentials %+v", i, r.Credentials)
		}
	}
	// Another registry misses the cache; the answer's key does not match
	// it, so it brings no credentials.
	r := sim.Lookup(ctx, "eu.registry.io/a")
	if p := r.Providers[0]; p.CacheHit || !p.Executed || p.CacheKey != "eu.registry.io" || len(r.Credentials) != 0 || execCount(t, log) != 3 {
		t.Fatalf("other registry: %+v, credentials %+v", p, r.Credentials)
	}
}

func TestCacheDuration(t *testing.T) {
	cases := []struct {
		name, defaultDur, dur string
		secondHit             bool
	}{
		{"zero is never cached", "10m", "0s", false},
		{"absent uses default", "10m", "", true},
		{"absent with default 0 is not cached", "0s", "", false},
		{"negative expires at once", "10m", "-1m", false},
		{"positive", "0s", "1m", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, _, log := setup(t, c.defaultDur, "", answer("Image", c.dur))
			first := sim.Lookup(context.Background(), "registry.io/a")
			second := sim.Lookup(context.Background(), "registry.io/a")
			if first.Providers[0].CacheHit || second.Providers[0].CacheHit != c.secondHit {
				t.Fatalf("first %+v second %+v", first.Providers[0], second.Providers[0])
			}
			want := 2
			if c.secondHit {
				want = 1
			}
			if n := execCount(t, log); n != want {
				t.Fatalf("execs = %d, want %d", n, want)
			}
			if (first.Providers[0].CachedUntil != nil) != c.secondHit {
				t.Fatalf("cachedUntil = %v", first.Providers[0].CachedUntil)
			}
		})
	}
}

func TestProviderErrors(t *testing.T) {
	const prefix = "failed to get credential from external registry credential provider: "
	cases := []struct {
		name   string
		plugin kubeletcorpus.Plugin
		want   string
		class  string
	}{
		{"exit status with stderr", kubeletcorpus.Plugin{Stderr: "no role\n", Exit: 3}, prefix + "error execing credential provider plugin p for image registry.io/a: exit status 3: no role\n", "exec"},
		{"empty stdout", kubeletcorpus.Plugin{}, prefix + "error reading GVK from response: couldn't get version/kind; json parse error: unexpected end of JSON input", "gvk"},
		{"YAML", kubeletcorpus.Plugin{Stdout: "kind: CredentialProviderResponse\n"}, prefix + "error reading GVK from response: couldn't get version/kind; json parse error: invalid character 'k' looking for beginning of value", "gvk"},
		{"wrong apiVersion", kubeletcorpus.Plugin{Stdout: strings.Replace(answer("Image", "1m").Stdout, "/v1", "/v1beta1", 1)}, prefix + "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1beta1", "apiVersion"},
		{"unknown field", kubeletcorpus.Plugin{Stdout: strings.Replace(answer("Image", "1m").Stdout, `"auth"`, `"x":1,"auth"`, 1)}, prefix + "error decoding credential provider plugin response from stdout", "decode"},
		{"wrong-case cacheKeyType", answer("image", "1m"), "credential provider plugin did not return a valid cacheKeyType: image", "cacheKeyType"},
		{"empty cacheKeyType", answer("", "1m"), "credential provider plugin did not return a valid cacheKeyType: ", "cacheKeyType"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, _, log := setup(t, "10m", "", c.plugin)
			for i := 1; i <= 2; i++ { // errors are not cached
				r := sim.Lookup(context.Background(), "registry.io/a")
				p := r.Providers[0]
				if p.Error != c.want || p.ErrorClass != c.class || len(r.Credentials) != 0 || !p.Executed {
					t.Fatalf("got %q (%s), want %q (%s)", p.Error, p.ErrorClass, c.want, c.class)
				}
				if n := execCount(t, log); n != i {
					t.Fatalf("execs = %d, want %d", n, i)
				}
			}
		})
	}
}

func TestExecRequestAndEnv(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\ncat > " + filepath.Join(dir, "stdin") + "\nprintf '%s|%s|%s' \"$KCRED_T\" \"$1\" \"$2\" >&2\necho '" + answer("Image", "1m").Stdout + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "p"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	req := Request{Image: "registry.io/a", ServiceAccountToken: "tok", ServiceAccountAnnotations: map[string]string{"b.io/x": "1", "a.io/y": "2"}}
	cases := []struct{ apiVersion, want string }{
		{"credentialprovider.kubelet.k8s.io/v1", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/a","serviceAccountToken":"tok","serviceAccountAnnotations":{"a.io/y":"2","b.io/x":"1"}}` + "\n"},
		{"credentialprovider.kubelet.k8s.io/v1beta1", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"registry.io/a"}` + "\n"},
		{"credentialprovider.kubelet.k8s.io/v1alpha1", `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"registry.io/a"}` + "\n"},
	}
	for _, c := range cases {
		p := Provider{Name: "p", APIVersion: c.apiVersion, Args: []string{"a b", "--c"}, Env: []EnvVar{{"KCRED_T", "config"}}}
		_, ex, err := Exec(context.Background(), dir, p, req, []string{"KCRED_T=kubelet", "PATH=" + os.Getenv("PATH")}, time.Minute)
		if c.apiVersion != "credentialprovider.kubelet.k8s.io/v1" && err == nil {
			t.Fatalf("%s: answer with apiVersion v1 accepted", c.apiVersion)
		}
		stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
		if string(stdin) != c.want || string(ex.Stdin) != c.want {
			t.Errorf("%s: stdin %q, want %q", c.apiVersion, stdin, c.want)
		}
		if got := string(ex.Stderr); got != "config|a b|--c" {
			t.Errorf("env/args seen by the plugin: %q", got)
		}
	}
}

func TestExecTimeout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p"), []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := Provider{Name: "p", APIVersion: apiVersionV1}
	_, _, err := Exec(context.Background(), dir, p, Request{Image: "registry.io/a"}, nil, 100*time.Millisecond)
	want := "error execing credential provider plugin p for image registry.io/a: context deadline exceeded: "
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
