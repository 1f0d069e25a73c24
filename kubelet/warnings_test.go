package kubelet

import (
	"strings"
	"testing"
	"time"
)

func TestWarnings(t *testing.T) {
	yes := true
	d := time.Minute
	cfg := &Config{Providers: []Provider{
		{Name: "clean", MatchImages: []string{"*.registry.io", "registry.io:5000/team"}, DefaultCacheDuration: &d, APIVersion: apiVersionV1},
		{Name: "bad", MatchImages: []string{"https://registry.io", "registry.io/*", "registry.io:*", "", "registry.io?x", "[r].io"}, DefaultCacheDuration: &d, APIVersion: apiVersionV1},
		{Name: "sa", MatchImages: []string{"r.io"}, DefaultCacheDuration: &d, APIVersion: apiVersionV1,
			TokenAttributes: &TokenAttributes{ServiceAccountTokenAudience: "my-aud", RequireServiceAccount: &yes, CacheType: CacheTypeToken}},
		{Name: "", MatchImages: []string{"r.io"}, DefaultCacheDuration: &d, APIVersion: apiVersionV1},
	}}
	got := strings.Join(Warnings(cfg, t.TempDir()), "\n")
	for _, want := range []string{
		`provider "bad": matchImages entry "https://registry.io" has a scheme: the kubelet uses entries verbatim, so it never matches (write "registry.io")`,
		`provider "bad": matchImages entry "registry.io/*" has '*' in its path`,
		`provider "bad": matchImages entry "registry.io:*" has '*' in its port`,
		`provider "bad": matchImages entry "" is empty`,
		`provider "bad": matchImages entry "registry.io?x" contains '?' or '#'`,
		`provider "bad": matchImages entry "[r].io" contains '['`,
		`provider "sa": the kubelet can only get a token for audience "my-aud" if nodes are granted it`,
		`provider "": the name is empty`,
		`provider "clean": no executable`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing warning %q", want)
		}
	}
	if strings.Contains(got, `provider "clean": matchImages`) {
		t.Errorf("warning for a good matchImages entry:\n%s", got)
	}
}
