package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLiveNode runs the real kubelet, containerd and runc with kcred as the
// credential providers of every role in Roles, and checks each pod against
// kcred check's prediction, the cloud emulators' counts and the registry's
// log, then that the node left nothing behind.
func TestLiveNode(t *testing.T) {
	if err := InOwnNamespaces(); err != nil {
		if os.Getenv("KCRED_NODE_BIN") != "" {
			// make test-node set up the namespaces: a skip here would be a
			// silent green.
			t.Fatalf("live node: %v", err)
		}
		t.Skipf("live node skipped: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := binariesForTest(t, ctx)
	var log strings.Builder
	dir := t.TempDir()
	res, err := Run(ctx, RunOptions{Bin: bin, Roles: Roles, Dir: dir, Log: &log})
	defer func() {
		if t.Failed() {
			// The kubelet's view of the credential providers and pulls.
			b, _ := os.ReadFile(filepath.Join(dir, "kubelet.log"))
			for _, rec := range records(string(b)) {
				if strings.Contains(rec, "plugin.go") || strings.Contains(rec, "Event occurred") {
					t.Log(rec)
				}
			}
		}
	}()
	t.Log("\n" + log.String())
	if res != nil {
		for _, l := range res.Leftovers {
			t.Errorf("left behind: %s", l)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range Roles {
		want += len(r.Images)
		if r.Denied != "" {
			want++
		}
	}
	if len(res.Pods) != want {
		t.Fatalf("%d pods observed, want %d", len(res.Pods), want)
	}
	seen := map[*Role]bool{}
	for _, p := range res.Pods {
		for _, d := range p.Disagreements() {
			t.Error(d)
		}
		// Independently of kcred check's prediction: a role's first pod
		// makes the kubelet exec its provider once; the others, from the
		// same registry, come from the kubelet's cache (cacheKeyType
		// Registry).
		if !p.Denied {
			want := 1
			if seen[p.Role] {
				want = 0
			}
			seen[p.Role] = true
			if got := p.Execs[p.Role.Provider]; got != want {
				t.Errorf("%s: the kubelet made %d exec(s) of %s, want %d", p.Pod, got, p.Role.Provider, want)
			}
		}
		t.Logf("%s %s: %s in %s; execs %v, cloud calls %d; events %q; provider errors %q",
			p.Pod, p.Image, p.State.State, p.Took.Round(time.Millisecond), p.Execs, p.CloudCalls, p.Events, p.ProviderErrors)
	}
	t.Logf("node up in %s", res.StartTook.Round(time.Millisecond))
}

// binariesForTest uses the programs in $KCRED_NODE_BIN (make builds them
// there) or builds them into a temporary directory.
func binariesForTest(t *testing.T, ctx context.Context) *Binaries {
	t.Helper()
	if dir := os.Getenv("KCRED_NODE_BIN"); dir != "" {
		b, err := Find(dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wd, _ := os.Getwd()
	b, err := Build(ctx, wd, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
