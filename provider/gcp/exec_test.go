package gcp_test

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/gcp"
)

const (
	pool     = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/k8s/providers/c1"
	puller   = "puller@kcred-test.iam.gserviceaccount.com"
	issuer   = "https://container.googleapis.com/v1/projects/kcred-test/locations/europe-west1/clusters/c1"
	gkeAud   = "identitynamespace:kcred-test.svc.id.goog:" + issuer
	arImage  = "europe-docker.pkg.dev/kcred-test/images/app"
	arHost   = "europe-docker.pkg.dev"
	stockArg = "get-credentials"
)

// stock are the args of the stock GKE / GCE kubelet config.
var stock = []string{stockArg, "--v=3"}

// harness runs the built binary as auth-provider-gcp with the metadata
// server on loopback (GCE_METADATA_HOST) and googleapis.com behind the
// fakecloud proxy.
type harness struct {
	t     *testing.T
	gcp   *fakecloud.GCP
	proxy *fakecloud.Proxy
	bin   string
	env   []string
	dir   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	g := fakecloud.NewGCP()
	g.Install(p)
	md := httptest.NewServer(g.Metadata())
	t.Cleanup(md.Close)
	return &harness{
		t: t, gcp: g, proxy: p,
		bin: exectest.Link(t, "auth-provider-gcp"),
		env: append(append(exectest.CleanEnv(t), p.Env()...), "GCE_METADATA_HOST="+strings.TrimPrefix(md.URL, "http://")),
		dir: t.TempDir(),
	}
}

func (h *harness) file(name, content string) string {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path
}

func req(image string) providertest.Request { return providertest.NewRequest(image) }

func podReq(image, token string, ann map[string]string) providertest.Request {
	r := req(image)
	r.SAToken, r.Annotations = token, ann
	return r
}

func (h *harness) run(args, env []string, r providertest.Request) exectest.Result {
	h.t.Helper()
	b, _ := json.Marshal(r)
	return exectest.Run(h.t, h.bin, args, append(append([]string{}, h.env...), env...), string(b))
}

func (h *harness) ok(args, env []string, r providertest.Request) providertest.Response {
	h.t.Helper()
	res := h.run(args, env, r)
	if res.Code != 0 {
		h.t.Fatalf("exit %d\nstderr: %s", res.Code, res.Stderr)
	}
	var out providertest.Response
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		h.t.Fatalf("response %q: %v", res.Stdout, err)
	}
	return out
}

// fail runs a request that must fail, and returns its one error line and
// all of stderr.
func (h *harness) fail(args, env []string, r providertest.Request) (string, string) {
	h.t.Helper()
	res := h.run(args, env, r)
	if res.Code != 1 || res.Stdout != "" {
		h.t.Fatalf("exit %d, stdout %q; want exit 1 and no output\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.Stderr, "\n"), "\n")
	line := lines[len(lines)-1]
	if !strings.HasPrefix(line, "auth-provider-gcp: ") || !strings.HasSuffix(res.Stderr, "\n") {
		h.t.Fatalf("stderr does not end with one prefixed error line: %q", res.Stderr)
	}
	return line, res.Stderr
}

// token checks a one-registry answer and returns what its token stands for.
func (h *harness) token(out providertest.Response, key string, life time.Duration) fakecloud.GCPGrant {
	h.t.Helper()
	if out.CacheKeyType != "Registry" || len(out.Auth) != 1 {
		h.t.Fatalf("answer %+v, want one Registry entry", out)
	}
	a, ok := out.Auth[key]
	if !ok || a.Username != gcp.Username {
		h.t.Fatalf("auth %+v, want %s under %q", out.Auth, gcp.Username, key)
	}
	g, ok := h.gcp.ValidAccessToken(a.Password)
	if !ok {
		h.t.Fatalf("the password is not an access token the emulator issued")
	}
	d, err := time.ParseDuration(out.CacheDuration)
	// The runtime keeps a 5-minute margin before the token's expiry.
	if want := life - 5*time.Minute; err != nil || d > want || d < want-time.Minute {
		h.t.Errorf("cacheDuration %q, want about %s (the token's expiry minus the margin)", out.CacheDuration, want)
	}
	return g
}

// podJWT is a service-account-like token (STS in the emulator checks its
// shape and expiry).
func podJWT(sub string) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": sub, "aud": pool, "exp": time.Now().Add(time.Hour).Unix()})
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString(claims) + ".c2lnbmF0dXJl"
}

// externalAccount is an external_account ADC file reading its subject
// token from subjectFile, impersonating sa when set.
func externalAccount(subjectFile, sa string) string {
	cfg := map[string]any{
		"type": "external_account", "audience": pool,
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
		"token_url":          "https://sts.googleapis.com/v1/token",
		"credential_source":  map[string]any{"file": subjectFile},
	}
	if sa != "" {
		cfg["service_account_impersonation_url"] = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + sa + ":generateAccessToken"
	}
	b, _ := json.Marshal(cfg)
	return string(b)
}

func metadataCalls(g *fakecloud.GCP) int {
	return g.Count(fakecloud.OpGCEToken) + g.Count(fakecloud.OpGCEScopes) + g.Count(fakecloud.OpGCEEmail) +
		g.Count(fakecloud.OpGCEAttribute) + g.Count(fakecloud.OpGCEMetadata)
}

func TestExecMetadataStockConfig(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"v1", "v1beta1", "v1alpha1"} {
		r := req(arImage)
		r.APIVersion = "credentialprovider.kubelet.k8s.io/" + v
		out := h.ok(stock, nil, r)
		if out.APIVersion != r.APIVersion || out.Kind != "CredentialProviderResponse" {
			t.Fatalf("%s: answered %s %s", v, out.APIVersion, out.Kind)
		}
		if g := h.token(out, arHost, time.Hour); g.Identity != "gce:"+h.gcp.DefaultAccount() {
			t.Fatalf("identity %q", g.Identity)
		}
	}
	// Warm: one token call for all three execs and every Google registry.
	h.token(h.ok(stock, nil, req("gcr.io/kcred-test/app")), "gcr.io", time.Hour)
	h.token(h.ok(stock, nil, req("gcr.io:443/kcred-test/app")), "gcr.io:443", time.Hour)
	if n := h.gcp.Count(fakecloud.OpGCEToken); n != 1 {
		t.Fatalf("%d token calls, want 1 (warm execs make none)", n)
	}
	c := h.gcp.Calls(fakecloud.OpGCEToken)[0]
	if c.Header.Get("Metadata-Flavor") != "Google" || c.Form["account"] != "default" {
		t.Fatalf("token call %+v", c)
	}
}

func TestExecNotGoogleRegistry(t *testing.T) {
	h := newHarness(t)
	for _, image := range []string{"docker.io/library/nginx", "gcr.io.example.com/x", "myreg.azurecr.io/x", "localhost:5000/x"} {
		out := h.ok(stock, nil, req(image))
		if len(out.Auth) != 0 {
			t.Fatalf("%s: answered %+v", image, out.Auth)
		}
	}
	if n := metadataCalls(h.gcp) + h.gcp.Count(fakecloud.OpGoogleSTS); n != 0 {
		t.Fatalf("%d calls for images of other registries", n)
	}
}

func TestExecShortLivedMetadataToken(t *testing.T) {
	h := newHarness(t)
	h.gcp.SetTokenLifetime(9 * time.Minute)
	h.token(h.ok(stock, nil, req(arImage)), arHost, 9*time.Minute)
}

func TestExecNamedServiceAccountAndIdentitiesNeverMix(t *testing.T) {
	h := newHarness(t)
	h.gcp.AddAccount(puller, "https://www.googleapis.com/auth/cloud-platform")
	if g := h.token(h.ok(append(stock, "--service-account="+puller), nil, req(arImage)), arHost, time.Hour); g.Identity != "gce:"+puller {
		t.Fatalf("identity %q", g.Identity)
	}
	if g := h.token(h.ok(stock, nil, req(arImage)), arHost, time.Hour); g.Identity != "gce:"+h.gcp.DefaultAccount() {
		t.Fatalf("identity %q after the named account", g.Identity)
	}
	adc := h.file("gcloud/application_default_credentials.json", string(h.gcp.AuthorizedUserJSON()))
	env := []string{"CLOUDSDK_CONFIG=" + filepath.Dir(adc)}
	if g := h.token(h.ok(stock, env, req(arImage)), arHost, time.Hour); !strings.HasPrefix(g.Identity, "user:") {
		t.Fatalf("identity %q with gcloud's ADC file", g.Identity)
	}
	calls := h.gcp.Calls(fakecloud.OpGCEToken)
	if len(calls) != 2 || calls[0].Form["account"] != puller || calls[1].Form["account"] != "default" {
		t.Fatalf("token calls %+v", calls)
	}
	if n := h.gcp.Count(fakecloud.OpGoogleOAuth2); n != 1 {
		t.Fatalf("%d OAuth 2.0 calls, want 1", n)
	}
}

func TestExecADCExternalAccountWithImpersonation(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	h.gcp.AllowImpersonation(puller)
	subject := podJWT("node-1")
	cfg := h.file("adc.json", externalAccount(h.file("subject", subject), puller))
	env := []string{"GOOGLE_APPLICATION_CREDENTIALS=" + cfg}
	for range 2 {
		if g := h.token(h.ok(stock, env, req(arImage)), arHost, time.Hour); g.Identity != "sa:"+puller {
			t.Fatalf("identity %q", g.Identity)
		}
	}
	if h.gcp.Count(fakecloud.OpGoogleSTS) != 1 || h.gcp.Count(fakecloud.OpIAMGenerateAccessToken) != 1 {
		t.Fatalf("STS %d, IAM %d calls; want 1 each (the second exec is warm)", h.gcp.Count(fakecloud.OpGoogleSTS), h.gcp.Count(fakecloud.OpIAMGenerateAccessToken))
	}
	if f := h.gcp.Calls(fakecloud.OpGoogleSTS)[0].Form; f["subject_token"] != subject || f["audience"] != pool {
		t.Fatalf("STS form %v", f)
	}
	if n := metadataCalls(h.gcp); n != 0 {
		t.Fatalf("%d metadata calls in ADC mode with a file", n)
	}
}

func TestExecServiceAccountModes(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(gkeAud)
	h.gcp.TrustAudience(pool)
	h.gcp.AllowImpersonation(puller)
	gkeArgs := append(stock, "--identity-provider="+issuer, "--project-id=kcred-test")
	wifArgs := append(stock, "--workload-identity-provider="+pool)
	podA, podB := podJWT("system:serviceaccount:ns:a"), podJWT("system:serviceaccount:ns:b")

	// GKE-compatible: the annotation opts in; the federated token is used.
	out := h.ok(gkeArgs, nil, podReq(arImage, podA, map[string]string{gcp.AnnotationEnableWI: "true"}))
	if g := h.token(out, arHost, time.Hour); g.Identity != "federated:"+gkeAud+":system:serviceaccount:ns:a" {
		t.Fatalf("GKE identity %q", g.Identity)
	}
	// Unannotated: the node's identity, as upstream.
	if g := h.token(h.ok(gkeArgs, nil, podReq(arImage, podB, nil)), arHost, time.Hour); g.Identity != "gce:"+h.gcp.DefaultAccount() {
		t.Fatalf("unannotated identity %q", g.Identity)
	}
	// Generic federation, impersonating the annotated service account.
	out = h.ok(wifArgs, nil, podReq(arImage, podA, map[string]string{gcp.AnnotationServiceAccount: puller}))
	if g := h.token(out, arHost, time.Hour); g.Identity != "sa:"+puller {
		t.Fatalf("impersonated identity %q", g.Identity)
	}
	// Generic federation without impersonation; another pod's token is
	// another cache entry.
	out = h.ok(wifArgs, nil, podReq(arImage, podB, nil))
	if g := h.token(out, arHost, time.Hour); g.Identity != "federated:"+pool+":system:serviceaccount:ns:b" {
		t.Fatalf("federated identity %q", g.Identity)
	}
	sts := h.gcp.Calls(fakecloud.OpGoogleSTS)
	if len(sts) != 3 || sts[0].Form["subject_token"] != podA || sts[0].Form["audience"] != gkeAud || sts[2].Form["subject_token"] != podB {
		t.Fatalf("STS calls %+v", sts)
	}
	// An annotated pod whose exchange fails gets an error, not the node's identity.
	h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Status: 403, Body: `{"error":"access_denied","error_description":"denied"}`})
	line, _ := h.fail(gkeArgs, nil, podReq(arImage, podJWT("system:serviceaccount:ns:c"), map[string]string{gcp.AnnotationEnableWI: "true"}))
	if !strings.Contains(line, "Google STS") {
		t.Fatalf("error %q", line)
	}
}

func TestExecConcurrentColdExecsMakeOneCall(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	errs := make(chan string, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(req(arImage))
			res, err := exectest.Exec(h.bin, stock, h.env, string(b))
			if err != nil || res.Code != 0 {
				errs <- res.Stderr
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("exec failed: %s", e)
	}
	if n := h.gcp.Count(fakecloud.OpGCEToken); n != 1 {
		t.Fatalf("%d token calls for 10 concurrent cold execs, want 1", n)
	}
}

func TestExecDockercfgFlows(t *testing.T) {
	h := newHarness(t)
	cfg := `{"https://europe-docker.pkg.dev":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("_json_key:secret-a")) + `"}}`
	h.gcp.SetAttribute("google-dockercfg", cfg)
	for _, args := range [][]string{{stockArg, "--authFlow=dockercfg"}, {stockArg, "-a", "dockercfg"}} {
		out := h.ok(args, nil, req(arImage))
		if a := out.Auth[arHost]; a.Username != "_json_key" || a.Password != "secret-a" {
			t.Fatalf("%v: %+v", args, out.Auth)
		}
	}
	h.proxy.Route("config.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dockercfg" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"auths":{"gcr.io":{"username":"u","password":"secret-b"}}}`))
	}))
	h.gcp.SetAttribute("google-dockercfg-url", "http://config.example.com/dockercfg")
	out := h.ok([]string{stockArg, "--authFlow=dockercfg-url"}, nil, req("gcr.io/p/app"))
	if a := out.Auth["gcr.io"]; a.Username != "u" || a.Password != "secret-b" {
		t.Fatalf("dockercfg-url: %+v", out.Auth)
	}
	// An error is an error: no entry for the image, a URL that fails.
	line, _ := h.fail([]string{stockArg, "--authFlow=dockercfg"}, nil, req("us.gcr.io/p/app"))
	if !strings.Contains(line, "no credential for us.gcr.io/p/app") {
		t.Fatalf("no entry: %q", line)
	}
	h.gcp.SetAttribute("google-dockercfg-url", "http://config.example.com/missing")
	line, _ = h.fail([]string{stockArg, "--authFlow=dockercfg-url"}, nil, req("eu.gcr.io/p/app"))
	if !strings.Contains(line, "404") {
		t.Fatalf("missing URL: %q", line)
	}
}

func TestExecUsageErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{stockArg, "--authFlow=GCR"}, `"GCR"`},
		{[]string{stockArg, "-a", "metadata"}, `"metadata"`},
		{[]string{stockArg, "--authFlow="}, `""`},
		{[]string{"get-token"}, `"get-token"`},
		{[]string{stockArg, "--identity-provider=https://x"}, "--project-id"},
		{[]string{stockArg, "--service-account=default"}, "service-account"},
	}
	for _, tt := range tests {
		line, _ := h.fail(tt.args, nil, req(arImage))
		if !strings.Contains(line, tt.want) {
			t.Errorf("%v: %q, want it to name %s", tt.args, line, tt.want)
		}
	}
	if metadataCalls(h.gcp) != 0 {
		t.Fatal("a usage error made a metadata call")
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestExecFailures(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	h.gcp.AllowImpersonation(puller)
	subject := podJWT("node-1")
	adc := []string{"GOOGLE_APPLICATION_CREDENTIALS=" + h.file("adc.json", externalAccount(h.file("subject", subject), puller))}
	podToken := podJWT("system:serviceaccount:ns:a")
	wif := podReq(arImage, podToken, map[string]string{gcp.AnnotationServiceAccount: puller})
	wifArgs := append(stock, "--workload-identity-provider="+pool)

	tests := []struct {
		name  string
		setup func()
		args  []string
		env   []string
		req   providertest.Request
		want  string
	}{
		{name: "metadata refused", env: []string{"GCE_METADATA_HOST=" + closedAddr(t)}, want: "metadata server"},
		{name: "metadata black hole", setup: func() { h.gcp.Inject(fakecloud.OpGCEScopes, fakecloud.Fault{Hang: true}) }, want: "metadata server"},
		{name: "metadata 500", setup: func() { h.gcp.Inject(fakecloud.OpGCEToken, fakecloud.Fault{Status: 500, Body: "boom"}) }, want: "status 500"},
		{name: "metadata malformed", setup: func() { h.gcp.Inject(fakecloud.OpGCEToken, fakecloud.Fault{Body: `{"access_token":`}) }, want: "not a token"},
		{name: "missing scope", setup: func() {
			h.gcp.SetDefaultAccount("node@kcred-test.iam.gserviceaccount.com", "https://www.googleapis.com/auth/logging.write")
		}, want: "scope"},
		{name: "named account absent", args: append(stock, "--service-account=nobody@kcred-test.iam.gserviceaccount.com"), want: "no such service account"},
		{name: "STS 403", env: adc, setup: func() {
			h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Status: 403, Body: `{"error":"access_denied"}`})
		}, want: "Google STS"},
		{name: "STS malformed", env: adc, setup: func() { h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Body: `{"access_token":`}) }, want: "Google STS"},
		{name: "STS black hole", env: adc, setup: func() { h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Hang: true}) }, want: "Google STS"},
		{name: "impersonation 403", env: adc, setup: func() {
			h.gcp.Inject(fakecloud.OpIAMGenerateAccessToken, fakecloud.Fault{Status: 403, Body: `{"error":{"code":403,"status":"PERMISSION_DENIED"}}`})
		}, want: "impersonate service account " + puller},
		{name: "impersonation malformed", env: adc, setup: func() { h.gcp.Inject(fakecloud.OpIAMGenerateAccessToken, fakecloud.Fault{Body: `{"accessToken":`}) }, want: "impersonate"},
		{name: "pod STS refused", args: wifArgs, req: wif, setup: func() {
			h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Status: 403, Body: `{"error":"access_denied"}`})
		}, want: "Google STS"},
		{name: "pod impersonation refused", args: wifArgs, req: podReq(arImage, podToken, map[string]string{gcp.AnnotationServiceAccount: "other@kcred-test.iam.gserviceaccount.com"}), want: "impersonate service account other@"},
		{name: "OAuth 2.0 malformed", env: []string{"GOOGLE_APPLICATION_CREDENTIALS=" + h.file("user.json", string(h.gcp.AuthorizedUserJSON()))},
			setup: func() { h.gcp.Inject(fakecloud.OpGoogleOAuth2, fakecloud.Fault{Body: `{"access_token":`}) }, want: "OAuth 2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			h.gcp.Clear()
			h.gcp.SetDefaultAccount("node@kcred-test.iam.gserviceaccount.com", "https://www.googleapis.com/auth/cloud-platform")
			if tt.setup != nil {
				tt.setup()
			}
			args, r := tt.args, tt.req
			if args == nil {
				args = stock
			}
			if r.Image == "" {
				r = req(arImage)
			}
			args = append(append([]string{}, args...), "--v=10")
			env := append([]string{"KCRED_CACHE=off"}, tt.env...)
			start := time.Now()
			line, stderr := h.fail(args, env, r)
			t.Log(line)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("failed after %v, want under 20s", d)
			}
			if !strings.Contains(line, tt.want) || !strings.Contains(line, "(") {
				t.Errorf("error %q, want %q and a hint", line, tt.want)
			}
			for _, secret := range []string{subject, podToken, "ya29."} {
				if strings.Contains(stderr, secret) {
					t.Errorf("stderr holds a token: %s", stderr)
				}
			}
		})
	}
}

func TestExecADCExternalAccountAWSSource(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	cfg, _ := json.Marshal(map[string]any{
		"type": "external_account", "audience": pool,
		"subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
		"token_url":          "https://sts.googleapis.com/v1/token",
		"credential_source": map[string]any{
			"environment_id":                 "aws1",
			"regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
		},
	})
	env := []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + h.file("aws.json", string(cfg)),
		"AWS_REGION=eu-west-3", "AWS_ACCESS_KEY_ID=AKIAEKSNODE", "AWS_SECRET_ACCESS_KEY=eks-node-secret",
	}
	if g := h.token(h.ok(stock, env, req(arImage)), arHost, time.Hour); g.Identity != "federated:"+pool+":aws:AKIAEKSNODE" {
		t.Fatalf("identity %q", g.Identity)
	}
	if n := metadataCalls(h.gcp); n != 0 {
		t.Fatalf("%d metadata calls in ADC mode with a file", n)
	}
}

// urlAccount is an external_account ADC file reading its subject token
// from a URL (format "text", or "json" with the token in field), with
// STS at tokenURL.
func urlAccount(sourceURL, field, tokenURL string) string {
	source := map[string]any{"url": sourceURL, "headers": map[string]string{"Metadata": "True"}}
	if field != "" {
		source["format"] = map[string]any{"type": "json", "subject_token_field_name": field}
	}
	b, _ := json.Marshal(map[string]any{
		"type": "external_account", "audience": pool,
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
		"token_url":          tokenURL,
		"credential_source":  source,
	})
	return string(b)
}

// subjectServer serves the subject token at http://subject.example.com/token
// (as JSON {"value": TOKEN} at /token.json), counting calls that carry the
// configured header.
func (h *harness) subjectServer(token string) *int {
	var mu sync.Mutex
	calls := new(int)
	h.proxy.Route("subject.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "True" {
			http.Error(w, "no Metadata header", http.StatusBadRequest)
			return
		}
		mu.Lock()
		*calls++
		mu.Unlock()
		switch r.URL.Path {
		case "/token":
			_, _ = w.Write([]byte(token))
		case "/token.json":
			_ = json.NewEncoder(w).Encode(map[string]string{"value": token})
		case "/refuse":
			// An error answer that echoes a secret of its own.
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"access_denied","error_description":"denied","access_token":"opaque-echo-SECRET789"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	return calls
}

func TestExecADCExternalAccountURLSource(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	subject := podJWT("node-url")
	calls := h.subjectServer(subject)
	for _, tt := range []struct{ path, field string }{{"/token", ""}, {"/token.json", "value"}} {
		env := []string{"KCRED_CACHE=off", "GOOGLE_APPLICATION_CREDENTIALS=" +
			h.file("url"+tt.field+".json", urlAccount("http://subject.example.com"+tt.path, tt.field, "https://sts.googleapis.com/v1/token"))}
		if g := h.token(h.ok(stock, env, req(arImage)), arHost, time.Hour); g.Identity != "federated:"+pool+":node-url" {
			t.Fatalf("%s: identity %q", tt.path, g.Identity)
		}
	}
	if *calls != 2 || h.gcp.Count(fakecloud.OpGoogleSTS) != 2 {
		t.Fatalf("%d subject calls, %d STS calls; want 2 each", *calls, h.gcp.Count(fakecloud.OpGoogleSTS))
	}
	if f := h.gcp.Calls(fakecloud.OpGoogleSTS)[0].Form; f["subject_token"] != subject {
		t.Fatalf("STS form %v", f)
	}
	if n := metadataCalls(h.gcp); n != 0 {
		t.Fatalf("%d metadata calls", n)
	}
	// The source refusing: the subject-token step, its error fields only.
	env := []string{"KCRED_CACHE=off", "GOOGLE_APPLICATION_CREDENTIALS=" +
		h.file("refuse.json", urlAccount("http://subject.example.com/refuse", "", "https://sts.googleapis.com/v1/token"))}
	line, stderr := h.fail(append(stock, "--v=10"), env, req(arImage))
	if !strings.Contains(line, `get the subject token from subject.example.com: status 403: "access_denied": "denied" (`) ||
		strings.Contains(stderr, "opaque-echo-SECRET789") {
		t.Fatalf("refusing source: %q\nstderr: %s", line, stderr)
	}
}

// TestExecEchoingSTSShowsNoSubjectToken: an STS (or a proxy in its place)
// that fails and echoes the request sends the subject token back; the
// library puts that body in its error. An opaque token is not JWT-shaped:
// the error line must still hold none of it, at any verbosity, whether the
// token came from a file or a URL.
func TestExecEchoingSTSShowsNoSubjectToken(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	const opaque = "opaque-subject-SECRET123"
	h.subjectServer(opaque)
	file := externalAccount(h.file("opaque", opaque+"\n"), "")
	url := urlAccount("http://subject.example.com/token", "", "https://sts.googleapis.com/v1/token")
	for _, src := range []struct{ name, cfg string }{{"file", file}, {"url", url}} {
		for _, fault := range []fakecloud.Fault{
			{Echo: true},
			{Echo: true, Status: 400, Body: `{"error":"invalid_request","error_description":"got subject_token=` + opaque + `"}`},
			{Echo: true, Status: 502, Body: "Bad gateway; request was: "},
		} {
			for _, v := range []string{"--v=0", "--v=10"} {
				h.gcp.Clear()
				h.gcp.Inject(fakecloud.OpGoogleSTS, fault)
				env := []string{"KCRED_CACHE=off", "GOOGLE_APPLICATION_CREDENTIALS=" + h.file(src.name+".json", src.cfg)}
				res := h.run([]string{stockArg, v}, env, req(arImage))
				var line string
				if v == "--v=0" {
					line = providertest.Result{Code: res.Code, Stdout: res.Stdout, Stderr: res.Stderr}.Failure(t, "auth-provider-gcp")
				} else {
					line, _ = h.fail([]string{stockArg, v}, env, req(arImage))
				}
				if strings.Contains(res.Stderr, opaque) || strings.Contains(res.Stderr, "SECRET123") {
					t.Errorf("%s source, fault %+v, %s: stderr holds the subject token:\n%s", src.name, fault, v, res.Stderr)
				}
				if !strings.Contains(line, "exchange the token at Google STS endpoint sts.googleapis.com: status ") {
					t.Errorf("%s source, fault %+v, %s: %q, want the STS step and the status", src.name, fault, v, line)
				}
			}
		}
	}
}

// TestExecCustomTokenURL: a regional or private STS endpoint refusing is
// reported as the STS step (the file's token_url), not as the subject
// token's.
func TestExecCustomTokenURL(t *testing.T) {
	h := newHarness(t)
	h.gcp.TrustAudience(pool)
	h.subjectServer(podJWT("node-regional"))
	for _, host := range []string{"sts.us-east1.rep.googleapis.com", "sts-private.corp.example"} {
		h.proxy.Route(host, h.gcp.APIs())
		for _, cfg := range []string{
			externalAccount(h.file("subject", podJWT("node-regional")), ""),
			urlAccount("http://subject.example.com/token", "", ""),
		} {
			var m map[string]any
			_ = json.Unmarshal([]byte(cfg), &m)
			m["token_url"] = "https://" + host + "/v1/token"
			b, _ := json.Marshal(m)
			env := []string{"KCRED_CACHE=off", "GOOGLE_APPLICATION_CREDENTIALS=" + h.file("regional.json", string(b))}
			h.gcp.Clear()
			before := h.gcp.Count(fakecloud.OpGoogleSTS)
			h.token(h.ok(stock, env, req(arImage)), arHost, time.Hour)
			if c := h.gcp.Calls(fakecloud.OpGoogleSTS); len(c) != before+1 || c[len(c)-1].Host != host {
				t.Fatalf("%s: %d STS calls, want 1 at the token_url", host, len(c)-before)
			}
			h.gcp.Inject(fakecloud.OpGoogleSTS, fakecloud.Fault{Status: 403, Body: `{"error":"access_denied"}`})
			line, _ := h.fail(stock, env, req(arImage))
			if !strings.Contains(line, "exchange the token at Google STS endpoint "+host+`: status 403: "access_denied" (`) || strings.Contains(line, "subject token") {
				t.Errorf("%s: %q, want the STS step", host, line)
			}
		}
	}
}

// TestExecMalformedAnswers: answers that are not what the metadata server
// or a Docker config holds fail in one line naming what failed.
func TestExecMalformedAnswers(t *testing.T) {
	h := newHarness(t)
	h.proxy.Route("config.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"auths":{"gcr.io":{"auth":`))
	}))
	tests := []struct {
		name  string
		setup func()
		args  []string
		want  string
	}{
		{name: "metadata scopes", setup: func() {
			h.gcp.Inject(fakecloud.OpGCEScopes, fakecloud.Fault{Body: `{"scopes":["https://www.googleapis.com/auth/cloud-platform"`})
		},
			want: "service account default of the instance: no access scope"},
		{name: "dockercfg attribute", setup: func() { h.gcp.SetAttribute("google-dockercfg", `{"https://gcr.io":{"auth":`) },
			args: []string{stockArg, "--authFlow=dockercfg"}, want: "parse instance attribute google-dockercfg: not a Docker config"},
		{name: "dockercfg attribute of the wrong type", setup: func() { h.gcp.SetAttribute("google-dockercfg", `["gcr.io"]`) },
			args: []string{stockArg, "--authFlow=dockercfg"}, want: "parse instance attribute google-dockercfg: "},
		{name: "dockercfg-url body", setup: func() { h.gcp.SetAttribute("google-dockercfg-url", "http://config.example.com/cfg") },
			args: []string{stockArg, "--authFlow=dockercfg-url"}, want: "parse the Docker config at the URL in google-dockercfg-url: not a Docker config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			h.gcp.Clear()
			tt.setup()
			args := tt.args
			if args == nil {
				args = []string{stockArg}
			}
			res := h.run(args, []string{"KCRED_CACHE=off"}, req("gcr.io/p/app"))
			line := providertest.Result{Code: res.Code, Stdout: res.Stdout, Stderr: res.Stderr}.Failure(t, "auth-provider-gcp")
			if !strings.Contains(line, tt.want) || strings.Contains(res.Stderr, "panic") {
				t.Errorf("%q, want %q", line, tt.want)
			}
		})
	}
}
