package kubelet

import (
	"context"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/kubeletcorpus"
)

const echoTokenScript = `TOKEN=$(printf '%s' "$REQ" | sed -n 's/.*"serviceAccountToken":"\([^"]*\)".*/\1/p')
printf '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"1h","auth":{"registry.io":{"username":"u","password":"%s"}}}' "$TOKEN"`

func saSetup(t *testing.T, tokenAttributes string) (*Simulator, string) {
	sim, _, log := setup(t, "10m", "  tokenAttributes: "+tokenAttributes+"\n", kubeletcorpus.Plugin{Script: echoTokenScript})
	return sim, log
}

func TestServiceAccountCacheKeys(t *testing.T) {
	type step struct {
		sa      *ServiceAccount
		hit     bool
		skipped bool
		err     string
	}
	sa := func(name, token string, annotations map[string]string) *ServiceAccount {
		return &ServiceAccount{Name: name, UID: "uid-" + name, Token: token, Annotations: annotations}
	}
	cases := []struct {
		name, attrs string
		steps       []step
	}{
		{"Token cache type: a new token misses", `{serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true}`, []step{
			{sa: sa("x", "t1", nil)},
			{sa: sa("x", "t1", nil), hit: true},
			{sa: sa("x", "t2", nil)},
			{sa: sa("y", "t2", nil)},
			{sa: nil, skipped: true},
		}},
		{"ServiceAccount cache type: shared across tokens, keyed by SA and annotations", `{serviceAccountTokenAudience: a, cacheType: ServiceAccount, requireServiceAccount: false, optionalServiceAccountAnnotationKeys: [k.io/a]}`, []step{
			// The plugin echoes the token: refused outside cacheType Token.
			{sa: sa("x", "t1", nil), err: "credential provider plugin returned the service account token as the password which is not allowed when service account cache type is not set to 'Token'"},
			{sa: nil}, // no SA, not required: runs without a token
			{sa: nil, hit: true},
		}},
		{"required annotation missing: skipped", `{serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true, requiredServiceAccountAnnotationKeys: [k.io/a]}`, []step{
			{sa: sa("x", "t1", map[string]string{"k.io/b": "1"}), skipped: true},
			{sa: sa("x", "t1", map[string]string{"k.io/a": "1"})},
			{sa: sa("x", "t1", map[string]string{"k.io/a": "2"})},
			{sa: sa("x", "t1", map[string]string{"k.io/a": "2", "other": "z"}), hit: true},
			{sa: sa("x", "", map[string]string{"k.io/a": "2"}), err: "failed to get service account token: "},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, _ := saSetup(t, c.attrs)
			for i, s := range c.steps {
				sim.Pod = Pod{Namespace: "ns", Name: "pod", ServiceAccount: s.sa}
				r := sim.Lookup(context.Background(), "registry.io/app")
				p := r.Providers[0]
				if p.CacheHit != s.hit || (p.Skipped != "") != s.skipped || !strings.HasPrefix(p.Error, s.err) || (s.err == "") != (p.Error == "") {
					t.Fatalf("step %d: %+v", i, p)
				}
				if s.sa != nil && s.sa.Token != "" && p.Executed && !strings.Contains(p.Request, `"serviceAccountToken":"`+s.sa.Token+`"`) {
					t.Fatalf("step %d: request %s", i, p.Request)
				}
				if s.sa == nil && strings.Contains(p.Request, "serviceAccountToken") {
					t.Fatalf("step %d: token sent without a service account: %s", i, p.Request)
				}
			}
		})
	}
}

func TestServiceAccountAnnotationsSent(t *testing.T) {
	sim, _ := saSetup(t, `{serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true, requiredServiceAccountAnnotationKeys: [k.io/r], optionalServiceAccountAnnotationKeys: [k.io/o, k.io/absent]}`)
	sim.Pod = Pod{Namespace: "ns", ServiceAccount: &ServiceAccount{Name: "x", Token: "t", Annotations: map[string]string{"k.io/r": "1", "k.io/o": "2", "k.io/other": "3"}}}
	r := sim.Lookup(context.Background(), "registry.io/app")
	want := `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/app","serviceAccountToken":"t","serviceAccountAnnotations":{"k.io/o":"2","k.io/r":"1"}}` + "\n"
	if got := r.Providers[0].Request; got != want {
		t.Fatalf("request\n got %s\nwant %s", got, want)
	}
	if len(r.Credentials) != 1 || r.Credentials[0].Password != "t" {
		t.Fatalf("credentials %+v", r.Credentials)
	}
}
