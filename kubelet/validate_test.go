package kubelet

import (
	"testing"
	"time"

	"github.com/kcred/kcred/internal/kubeletcorpus"
)

func TestValidate(t *testing.T) {
	for _, c := range kubeletcorpus.Validation {
		t.Run(c.Name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "c.yaml", kubeletcorpus.ValidationConfig(c.Providers))
			cfg, err := LoadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(cfg)
			want := "failed to validate credential provider config: " + c.Want
			if err == nil || err.Error() != want {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, providers := range []string{
		kubeletcorpus.Prov(),
		kubeletcorpus.Prov(`defaultCacheDuration: 0s`),
		kubeletcorpus.Prov(`matchImages: ["https://r.io", "*.r.io/*", ""]`), // never match, but valid
		kubeletcorpus.Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: false, cacheType: ServiceAccount, optionalServiceAccountAnnotationKeys: [A.io/B]}`),
	} {
		p := writeFile(t, t.TempDir(), "c.yaml", kubeletcorpus.ValidationConfig(providers))
		cfg, err := LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(cfg); err != nil {
			t.Errorf("%s: %v", providers, err)
		}
	}
}

// Duplicate names are refused by LoadConfig before validation; Validate
// still reports them for a Config built in code.
func TestValidateDuplicateName(t *testing.T) {
	d := new(time.Duration)
	p := Provider{Name: "a", MatchImages: []string{"r.io"}, DefaultCacheDuration: d, APIVersion: apiVersionV1}
	err := Validate(&Config{Providers: []Provider{p, p}})
	want := `failed to validate credential provider config: providers.name: Duplicate value: "a"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// The feature gate is on by default since 1.34; with it off (1.33 default)
// tokenAttributes is refused.
func TestValidateGateOff(t *testing.T) {
	p := writeFile(t, t.TempDir(), "c.yaml", kubeletcorpus.ValidationConfig(kubeletcorpus.Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: Token}`)))
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "failed to validate credential provider config: providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"
	if err := validate(cfg, false); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if err := validate(cfg, true); err != nil {
		t.Fatal(err)
	}
}
