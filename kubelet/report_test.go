package kubelet

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	r := &Report{Images: []*ImageReport{{
		Providers:   []*ProviderReport{{Request: `{"serviceAccountToken":"tok-123"}`, Stderr: "got tok-123", Error: "x tok-123"}},
		Credentials: []Credential{{Key: "r.io", Provider: "p", Username: "u", Password: "pw"}},
	}}}
	r.Redact("tok-123")
	p, c := r.Images[0].Providers[0], r.Images[0].Credentials[0]
	for _, s := range []string{p.Request, p.Stderr, p.Error, c.Password} {
		if strings.Contains(s, "tok-123") || strings.Contains(s, "pw") {
			t.Fatalf("secret left: %q", s)
		}
	}
	if c.Password != Redacted || c.Username != "u" {
		t.Fatalf("credential %+v", c)
	}
}

// A plugin that echoes the password it returns into its stderr (or an
// error) must not reveal it through kcred check; short passwords are
// replaced as whole words only.
func TestRedactEchoedPasswords(t *testing.T) {
	r := &Report{Images: []*ImageReport{
		{
			Providers:   []*ProviderReport{{Stderr: "debug: returning s3cret-pass for r.io", Error: ""}},
			Credentials: []Credential{{Key: "r.io", Password: "s3cret-pass"}, {Key: "q.io", Password: "ab"}},
		},
		{Providers: []*ProviderReport{{Error: "other image: s3cret-pass leaked", Stderr: "password=ab; tab and abc stay"}}},
	}}
	r.Redact("")
	if got := r.Images[0].Providers[0].Stderr; got != "debug: returning <redacted> for r.io" {
		t.Errorf("stderr = %q", got)
	}
	if got := r.Images[1].Providers[0].Error; got != "other image: <redacted> leaked" {
		t.Errorf("error = %q", got)
	}
	if got := r.Images[1].Providers[0].Stderr; got != "password=<redacted>; tab and abc stay" {
		t.Errorf("short password: stderr = %q", got)
	}
	for _, c := range r.Images[0].Credentials {
		if c.Password != Redacted {
			t.Errorf("credential %s password %q", c.Key, c.Password)
		}
	}
}

// A password that contains another one is hidden whole, whatever the
// order the credentials came in.
func TestRedactNestedPasswords(t *testing.T) {
	r := &Report{Images: []*ImageReport{{
		Providers:   []*ProviderReport{{Stderr: "using cibot-Pa55word! for cibot"}},
		Credentials: []Credential{{Key: "a.io", Password: "cibot"}, {Key: "b.io", Password: "cibot-Pa55word!"}},
	}}}
	r.Redact("")
	if got := r.Images[0].Providers[0].Stderr; got != "using <redacted> for <redacted>" {
		t.Errorf("stderr = %q", got)
	}
}

func TestErrorClass(t *testing.T) {
	for msg, want := range map[string]string{
		"": "",
		"failed to get credential from external registry credential provider: error execing credential provider plugin p for image i: exit status 1: ": "exec",
		"x: error reading GVK from response: y":   "gvk",
		"failed to get service account token: no": "serviceAccountToken",
		"failed to get service account: no":       "serviceAccount",
		"something new":                           "other",
	} {
		if got := ErrorClass(msg); got != want {
			t.Errorf("ErrorClass(%q) = %q, want %q", msg, got, want)
		}
	}
}

// Accepted answers, as the kubelet's strict decoder accepts them.
func TestDecodeResponseAccepts(t *testing.T) {
	const v1 = "credentialprovider.kubelet.k8s.io/v1"
	for _, body := range []string{
		`  {"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image"}` + "\n\n",
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","auth":null}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","cacheDuration":"0s","auth":{"r.io":{"username":"u"}}}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"image","cacheDuration":"-1m"}`,
	} {
		if _, err := DecodeResponse([]byte(body), v1); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range []string{
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","CacheKeyType":"Image"}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","cacheDuration":300}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","cacheDuration":"5"}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","auth":{"r.io":{"username":"u","email":"e"}}}`,
		`{"kind":"Other","apiVersion":"` + v1 + `","cacheKeyType":"Image"}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","cacheKeyType":"Image"}`,
	} {
		if _, err := DecodeResponse([]byte(body), v1); err == nil || err.Error() != "error decoding credential provider plugin response from stdout" {
			t.Errorf("%s: err = %v", body, err)
		}
	}
}

// A password under a key that never matched the image is in no credential
// list, but a plugin may still echo it.
func TestRedactPasswordsOutsideTheCredentialList(t *testing.T) {
	p := &ProviderReport{Stderr: "answering other.io with LONGPASSWORD99", Error: "line2 LONGPASSWORD99"}
	p.notePasswords(map[string]AuthConfig{"other.io": {Username: "u", Password: "LONGPASSWORD99"}})
	r := &Report{Images: []*ImageReport{{Providers: []*ProviderReport{p}}}}
	r.Redact("")
	if strings.Contains(p.Stderr+p.Error, "LONGPASSWORD99") {
		t.Fatalf("password left: %q / %q", p.Stderr, p.Error)
	}
}
