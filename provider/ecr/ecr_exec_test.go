package ecr_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// These tests run the built binary as the kubelet does (a child process
// named ecr-credential-provider, request on stdin, clean environment)
// against the AWS emulator on loopback.

const (
	privateImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app"
	privateHost  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	podRole      = "arn:aws:iam::123456789012:role/pod-puller"
	roleARNAnn   = "eks.amazonaws.com/ecr-role-arn"
)

type harness struct {
	aws *fakecloud.AWS
	url string
	bin string
	env []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	a := fakecloud.NewAWS()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &harness{
		aws: a,
		url: srv.URL,
		bin: exectest.Link(t, "ecr-credential-provider"),
		env: append(exectest.CleanEnv(t), fakecloud.Env(srv.URL)...),
	}
}

// cacheDir is the token cache CleanEnv configured.
func (h *harness) cacheDir() string {
	for _, kv := range h.env {
		if v, ok := strings.CutPrefix(kv, "KCRED_CACHE_DIR="); ok {
			return v
		}
	}
	return ""
}

// privateDir is a cache directory path kcred creates itself (the token
// cache refuses a directory other users can reach, as t.TempDir's are).
func privateDir(t *testing.T) string {
	return filepath.Join(t.TempDir(), "cache")
}

func (h *harness) run(t *testing.T, stdin string, env []string, args ...string) exectest.Result {
	t.Helper()
	return exectest.Run(t, h.bin, args, append(append([]string{}, h.env...), env...), stdin)
}

type request struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

func req(image, saToken string, ann map[string]string) string {
	b, _ := json.Marshal(request{"credentialprovider.kubelet.k8s.io/v1", "CredentialProviderRequest", image, saToken, ann})
	return string(b)
}

type response struct {
	APIVersion    string `json:"apiVersion"`
	Kind          string `json:"kind"`
	CacheKeyType  string `json:"cacheKeyType"`
	CacheDuration string `json:"cacheDuration"`
	Auth          map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auth"`
}

// ok checks a successful exec and returns its response.
func (h *harness) ok(t *testing.T, res exectest.Result) response {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("exit %d, stderr: %s", res.Code, res.Stderr)
	}
	var r response
	dec := json.NewDecoder(strings.NewReader(res.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("response %q: %v", res.Stdout, err)
	}
	if r.Kind != "CredentialProviderResponse" || r.CacheKeyType != "Registry" {
		t.Fatalf("response %+v", r)
	}
	return r
}

// credFor checks the response holds exactly one emulator-issued credential,
// keyed by key, and returns its password.
func (h *harness) credFor(t *testing.T, r response, key string) string {
	t.Helper()
	a, ok := r.Auth[key]
	if !ok || len(r.Auth) != 1 {
		t.Fatalf("auth keys = %v, want exactly %q", keys(r.Auth), key)
	}
	if !h.aws.ValidCredential(a.Username, a.Password) {
		t.Fatalf("credential for %s is not one the emulator issued", key)
	}
	return a.Password
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fails checks a failed exec: exit 1, nothing on stdout, one stderr line
// containing every want and ending with what to check, in parentheses (as
// docs/providers/ecr.md promises).
func fails(t *testing.T, res exectest.Result, want ...string) {
	t.Helper()
	if res.Code != 1 || res.Stdout != "" {
		t.Fatalf("exit %d, stdout %q; want exit 1 and no stdout (stderr: %s)", res.Code, res.Stdout, res.Stderr)
	}
	line := strings.TrimSpace(res.Stderr)
	lines := strings.Split(line, "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "ecr-credential-provider: ") {
		t.Errorf("error line %q lacks the role prefix", last)
	}
	if !strings.HasSuffix(last, ")") {
		t.Errorf("error line %q does not end with (<what to check>)", last)
	}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("error %q lacks %q", last, w)
		}
	}
}

func TestExecHostForms(t *testing.T) {
	h := newHarness(t)
	static := h.aws.StaticEnv()
	tests := []struct {
		image, key, region, service string
		env                         []string
	}{
		{privateImage, privateHost, "eu-west-1", "ecr", nil},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:v1", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", "ecr", nil},
		{"123456789012.dkr-ecr.ap-south-1.on.aws/app", "123456789012.dkr-ecr.ap-south-1.on.aws", "ap-south-1", "ecr", nil},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "ecr", nil},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu/app", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "ecr", nil},
		{"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/app", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "ecr", nil},
		// The region comes from the host, not from AWS_REGION.
		{"123456789012.dkr.ecr.sa-east-1.amazonaws.com/app", "123456789012.dkr.ecr.sa-east-1.amazonaws.com", "sa-east-1", "ecr", []string{"AWS_REGION=eu-central-1"}},
		{"public.ecr.aws/lambda/python", "public.ecr.aws", "us-east-1", "ecr-public", []string{"AWS_REGION=eu-central-1"}},
		{"ecr-public.aws.com/lambda/python", "ecr-public.aws.com", "us-east-1", "ecr-public", nil},
		// A private path containing a public host is still private (upstream #651).
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/public.ecr.aws/x", privateHost, "eu-west-1", "ecr", nil},
		// Other hosts: the configured region; the key keeps the port.
		{"mirror.example.com:5000/library/nginx", "mirror.example.com:5000", "eu-central-1", "ecr", []string{"AWS_REGION=eu-central-1"}},
		{"nginx", "docker.io", "eu-central-1", "ecr", []string{"AWS_REGION=eu-central-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			h.aws.Reset()
			r := h.ok(t, h.run(t, req(tt.image, "", nil), append(append([]string{"KCRED_CACHE=off"}, static...), tt.env...)))
			h.credFor(t, r, tt.key)
			op := fakecloud.OpECRToken
			if tt.service == "ecr-public" {
				op = fakecloud.OpECRPublicToken
			}
			calls := h.aws.Calls(op)
			if len(calls) != 1 || calls[0].Form["region"] != tt.region || calls[0].Form["service"] != tt.service {
				t.Fatalf("calls = %+v; want one %s call signed for %s/%s", calls, op, tt.region, tt.service)
			}
		})
	}
	t.Run("other host without a region", func(t *testing.T) {
		fails(t, h.run(t, req("mirror.example.com/app", "", nil), static), "no region for mirror.example.com", "AWS_REGION")
	})
}

// TestExecRegistryMirror: --registry-mirror, the runtime's flag every role
// takes. An image under the source gets the credential of the ECR target,
// under both keys; the token is the target region's, whatever AWS_REGION
// says; an image outside the source is answered as before.
func TestExecRegistryMirror(t *testing.T) {
	h := newHarness(t)
	env := append([]string{"KCRED_CACHE=off", "AWS_REGION=sa-east-1"}, h.aws.StaticEnv()...)
	args := []string{"get-credentials", "--registry-mirror=mirror.local:5000/team:" + privateHost, "--registry-mirror", "docker.io:" + privateHost}
	for image, source := range map[string]string{
		"mirror.local:5000/team/app:v1": "mirror.local:5000/team",
		"nginx:1.27":                    "docker.io",
	} {
		h.aws.Reset()
		r := h.ok(t, h.run(t, req(image, "", nil), env, args...))
		src, dst := r.Auth[source], r.Auth[privateHost]
		if len(r.Auth) != 2 || src != dst || !h.aws.ValidCredential(src.Username, src.Password) {
			t.Fatalf("%s: auth keys %v; want the target's emulator-issued credential under %s and %s", image, keys(r.Auth), source, privateHost)
		}
		if calls := h.aws.Calls(fakecloud.OpECRToken); len(calls) != 1 || calls[0].Form["region"] != "eu-west-1" {
			t.Fatalf("%s: calls %+v; want one token call for the target's region eu-west-1", image, calls)
		}
	}
	h.aws.Reset()
	r := h.ok(t, h.run(t, req("mirror.local:5000/other/app", "", nil), env, args...))
	h.credFor(t, r, "mirror.local:5000")
	if calls := h.aws.Calls(fakecloud.OpECRToken); len(calls) != 1 || calls[0].Form["region"] != "sa-east-1" {
		t.Fatalf("unmirrored path: calls %+v; want the configured region", calls)
	}
	fails(t, h.run(t, req(privateImage, "", nil), env, "--registry-mirror=mirror.local"), `registry mirror "mirror.local"`, "want SOURCE:TARGET")
}

// TestExecRealHostNames goes through the HTTPS proxy with the test CA and
// no endpoint overrides, so the SDK picks the real API host: FIPS and
// dual-stack registry hosts reach the FIPS and dual-stack endpoints.
func TestExecRealHostNames(t *testing.T) {
	h := newHarness(t)
	proxy, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	for _, host := range []string{"api.ecr.eu-west-1.amazonaws.com", "api.ecr-fips.us-east-1.amazonaws.com",
		"ecr.us-west-2.api.aws", "api.ecr-public.us-east-1.amazonaws.com", "ecr-public.us-east-1.api.aws",
		"sts.eu-west-1.amazonaws.com", "169.254.169.254"} {
		proxy.Route(host, h.aws.Handler())
	}
	h.aws.TrustRole(podRole)
	base := append(exectest.CleanEnv(t), proxy.Env()...)
	static := append(append([]string{}, base...), h.aws.StaticEnv()...)
	// Instance metadata at its real address, reached through HTTP_PROXY.
	imds := append(append([]string{}, base...), "AWS_EC2_METADATA_DISABLED=false")
	tests := []struct {
		image   string
		env     []string
		saToken string
		hosts   []string
	}{
		{privateImage, static, "", []string{"api.ecr.eu-west-1.amazonaws.com"}},
		{"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app", static, "", []string{"api.ecr-fips.us-east-1.amazonaws.com"}},
		{"123456789012.dkr-ecr.us-west-2.on.aws/app", static, "", []string{"ecr.us-west-2.api.aws"}},
		{"public.ecr.aws/x/y", static, "", []string{"api.ecr-public.us-east-1.amazonaws.com"}},
		{"ecr-public.aws.com/x/y", static, "", []string{"ecr-public.us-east-1.api.aws"}},
		{privateImage, imds, "", []string{"169.254.169.254", "169.254.169.254", "169.254.169.254", "api.ecr.eu-west-1.amazonaws.com"}},
		{privateImage, imds, "pod-jwt", []string{"sts.eu-west-1.amazonaws.com", "api.ecr.eu-west-1.amazonaws.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.image+" "+strings.Join(tt.hosts, ","), func(t *testing.T) {
			h.aws.Reset()
			var ann map[string]string
			if tt.saToken != "" {
				ann = map[string]string{roleARNAnn: podRole}
			}
			h.credFor(t, h.ok(t, exectest.Run(t, h.bin, nil, tt.env, req(tt.image, tt.saToken, ann))), registryOf(tt.image))
			var got []string
			for _, c := range h.aws.Calls() {
				got = append(got, hostOnly(c.Host))
			}
			if strings.Join(got, " ") != strings.Join(tt.hosts, " ") {
				t.Fatalf("calls went to %v, want %v", got, tt.hosts)
			}
		})
	}
}

// registryOf is the host part of an image reference with a host.
func registryOf(image string) string {
	host, _, _ := strings.Cut(image, "/")
	return host
}

// hostOnly drops a port from a Host header.
func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return hostport
}

func TestExecIdentities(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	credsFile := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credsFile, []byte("[puller]\naws_access_key_id = "+h.aws.StaticKeyID+
		"\naws_secret_access_key = "+h.aws.StaticSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const nodeRole = "arn:aws:iam::123456789012:role/node-puller"
	h.aws.TrustRole(nodeRole)
	h.aws.TrustRole(podRole)
	tokenFile := filepath.Join(dir, "web-identity-token")
	if err := os.WriteFile(tokenFile, []byte("node-web-identity-jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "config")
	if err := os.WriteFile(configFile, []byte("[profile web]\nrole_arn = "+nodeRole+
		"\nweb_identity_token_file = "+tokenFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		env       []string
		saToken   string
		ann       map[string]string
		wantOps   map[string]int
		wantRole  string // role STS was asked for
		issuedKey bool   // ECR signed with a key IMDS, STS or the container endpoint issued (not the static one)
	}{
		{name: "static env", env: h.aws.StaticEnv(), wantOps: map[string]int{fakecloud.OpECRToken: 1}},
		{name: "profile", env: []string{"AWS_SHARED_CREDENTIALS_FILE=" + credsFile, "AWS_PROFILE=puller"}, wantOps: map[string]int{fakecloud.OpECRToken: 1}},
		{name: "profile with a web-identity role", env: []string{"AWS_CONFIG_FILE=" + configFile, "AWS_PROFILE=web"}, issuedKey: true, wantRole: nodeRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "instance metadata", env: []string{"AWS_EC2_METADATA_DISABLED=false"}, issuedKey: true,
			wantOps: map[string]int{fakecloud.OpIMDSToken: 1, fakecloud.OpIMDSRole: 1, fakecloud.OpIMDSCredentials: 1, fakecloud.OpECRToken: 1}},
		{name: "container credentials", env: h.aws.ContainerEnv(h.url), issuedKey: true,
			wantOps: map[string]int{fakecloud.OpContainerCreds: 1, fakecloud.OpECRToken: 1}},
		{name: "web identity", env: []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + nodeRole}, issuedKey: true, wantRole: nodeRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account, annotation", env: append([]string{"AWS_EC2_METADATA_DISABLED=false"}, h.aws.StaticEnv()...),
			saToken: "pod-jwt", ann: map[string]string{roleARNAnn: podRole}, issuedKey: true, wantRole: podRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account, AWS_ECR_ROLE_ARN", env: []string{"AWS_ECR_ROLE_ARN=" + podRole},
			saToken: "pod-jwt", issuedKey: true, wantRole: podRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account without a role uses node credentials", env: h.aws.StaticEnv(),
			saToken: "pod-jwt", ann: map[string]string{"eks.amazonaws.com/role-arn": podRole},
			wantOps: map[string]int{fakecloud.OpECRToken: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.aws.Reset()
			r := h.ok(t, h.run(t, req(privateImage, tt.saToken, tt.ann), append([]string{"KCRED_CACHE=off"}, tt.env...)))
			h.credFor(t, r, privateHost)
			for op, n := range tt.wantOps {
				if got := h.aws.Count(op); got != n {
					t.Errorf("%s calls = %d, want %d", op, got, n)
				}
			}
			if got, want := h.aws.Count(""), sum(tt.wantOps); got != want {
				t.Errorf("%d calls in all, want %d: %+v", got, want, ops(h.aws.Calls()))
			}
			if sts := h.aws.Calls(fakecloud.OpSTSWebIdentity); tt.wantRole != "" && (len(sts) != 1 || sts[0].Form["RoleArn"] != tt.wantRole) {
				t.Errorf("STS calls = %+v, want one for %s", sts, tt.wantRole)
			}
			if tt.saToken != "" && tt.wantRole != "" {
				if sts := h.aws.Calls(fakecloud.OpSTSWebIdentity); sts[0].Form["WebIdentityToken"] != tt.saToken {
					t.Error("STS was not given the pod's token")
				}
			}
			ecr := h.aws.Calls(fakecloud.OpECRToken)
			if isStatic := ecr[0].Form["akid"] == h.aws.StaticKeyID; isStatic == tt.issuedKey {
				t.Errorf("ECR signed with %s; want static key: %t", ecr[0].Form["akid"], !tt.issuedKey)
			}
		})
	}

	t.Run("role that cannot be assumed fails without falling back", func(t *testing.T) {
		h.aws.Reset()
		const denied = "arn:aws:iam::123456789012:role/not-trusted"
		res := h.run(t, req(privateImage, "pod-jwt", map[string]string{roleARNAnn: denied}),
			append([]string{"KCRED_CACHE=off"}, h.aws.StaticEnv()...))
		fails(t, res, "assume role "+denied, "AccessDenied", "trust policy")
		if n := h.aws.Count(fakecloud.OpECRToken); n != 0 {
			t.Errorf("%d ECR calls after a failed assume-role; want none (no fall-back to node credentials)", n)
		}
	})
	t.Run("malformed role annotation", func(t *testing.T) {
		res := h.run(t, req(privateImage, "pod-jwt", map[string]string{roleARNAnn: "pod-puller"}), nil)
		fails(t, res, "annotation "+roleARNAnn, "not an IAM role ARN")
	})
	t.Run("malformed AWS_ECR_ROLE_ARN", func(t *testing.T) {
		fails(t, h.run(t, req(privateImage, "", nil), []string{"AWS_ECR_ROLE_ARN=nope"}), "AWS_ECR_ROLE_ARN", "not an IAM role ARN")
	})
	t.Run("missing profile", func(t *testing.T) {
		fails(t, h.run(t, req(privateImage, "", nil), []string{"AWS_PROFILE=nope", "AWS_SHARED_CREDENTIALS_FILE=" + credsFile}),
			"load AWS configuration", "nope", "check AWS_PROFILE")
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		h.aws.Reset()
		fails(t, h.run(t, req(privateImage, "", nil), []string{"KCRED_CACHE=off"}), "get node credentials", "check the instance profile")
		if n := h.aws.Count(""); n != 0 {
			t.Errorf("%d cloud calls without credentials, want 0", n)
		}
	})
	t.Run("instance metadata without a role", func(t *testing.T) {
		h.aws.Reset()
		h.aws.Inject(fakecloud.OpIMDSRole, fakecloud.Fault{Status: 404})
		defer h.aws.Clear()
		fails(t, h.run(t, req(privateImage, "", nil), []string{"KCRED_CACHE=off", "AWS_EC2_METADATA_DISABLED=false"}),
			"get node credentials", "no EC2 IMDS role found")
		if n := h.aws.Count(fakecloud.OpECRToken); n != 0 {
			t.Errorf("%d ECR calls without credentials, want 0", n)
		}
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func ops(calls []fakecloud.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}

func TestExecTokenCache(t *testing.T) {
	h := newHarness(t)
	static := h.aws.StaticEnv()

	t.Run("warm cache makes no cloud call", func(t *testing.T) {
		h.aws.Reset()
		env := append([]string{"AWS_EC2_METADATA_DISABLED=false"}, "KCRED_CACHE_DIR="+privateDir(t))
		first := h.credFor(t, h.ok(t, h.run(t, req(privateImage, "", nil), env)), privateHost)
		calls := h.aws.Count("")
		if calls == 0 {
			t.Fatal("cold exec made no call")
		}
		// Another registry in the same region shares the region's token.
		r := h.ok(t, h.run(t, req("210987654321.dkr.ecr.eu-west-1.amazonaws.com/x", "", nil), env))
		if second := h.credFor(t, r, "210987654321.dkr.ecr.eu-west-1.amazonaws.com"); second != first {
			t.Error("warm exec returned a different token")
		}
		if got := h.aws.Count(""); got != calls {
			t.Errorf("warm exec made %d cloud calls (IMDS included), want 0", got-calls)
		}
	})

	t.Run("20 concurrent cold execs make one call", func(t *testing.T) {
		h.aws.Reset()
		env := append([]string{"KCRED_CACHE_DIR=" + privateDir(t)}, static...)
		// A slow answer keeps the first fetch in flight while the others start,
		// so they find the lock taken rather than a warm cache.
		h.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Delay: 2 * time.Second, Times: 1})
		var wg sync.WaitGroup
		results := make([]exectest.Result, 20)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = h.run(t, req(privateImage, "", nil), env, "--v=4")
			}()
		}
		wg.Wait()
		waited := 0
		for _, res := range results {
			if strings.Contains(res.Stderr, "after wait") {
				waited++
			}
		}
		if waited == 0 {
			t.Error("no exec waited for the one in flight: the test did not exercise the single flight")
		}
		var pw string
		for i, res := range results {
			got := h.credFor(t, h.ok(t, res), privateHost)
			if i > 0 && got != pw {
				t.Errorf("exec %d got a different token", i)
			}
			pw = got
		}
		if n := h.aws.Count(fakecloud.OpECRToken); n != 1 {
			t.Errorf("GetAuthorizationToken calls = %d, want 1", n)
		}
	})

	t.Run("corrupt cache file is replaced", func(t *testing.T) {
		h.aws.Reset()
		dir := privateDir(t)
		env := append([]string{"KCRED_CACHE_DIR=" + dir}, static...)
		h.ok(t, h.run(t, req(privateImage, "", nil), env))
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files = %v, want 1", files)
		}
		for _, junk := range []string{"{\"version\":1,\"tok", "not json", ""} {
			if err := os.WriteFile(files[0], []byte(junk), 0o600); err != nil {
				t.Fatal(err)
			}
			before := h.aws.Count(fakecloud.OpECRToken)
			h.credFor(t, h.ok(t, h.run(t, req(privateImage, "", nil), env)), privateHost)
			if h.aws.Count(fakecloud.OpECRToken) != before+1 {
				t.Fatalf("corrupt file %q: no fresh fetch", junk)
			}
			h.ok(t, h.run(t, req(privateImage, "", nil), env))
			if h.aws.Count(fakecloud.OpECRToken) != before+1 {
				t.Fatalf("corrupt file %q was not replaced: the next exec fetched again", junk)
			}
		}
	})

	t.Run("token near expiry is refreshed", func(t *testing.T) {
		h.aws.Reset()
		env := append([]string{"KCRED_CACHE_DIR=" + privateDir(t)}, static...)
		h.aws.SetTokenLifetime(4 * time.Minute) // inside the 5-minute margin
		defer h.aws.SetTokenLifetime(12 * time.Hour)
		r := h.ok(t, h.run(t, req(privateImage, "", nil), env))
		if r.CacheDuration != "0s" {
			t.Errorf("cacheDuration = %q for a token expiring within the margin, want 0s", r.CacheDuration)
		}
		h.ok(t, h.run(t, req(privateImage, "", nil), env))
		if n := h.aws.Count(fakecloud.OpECRToken); n != 2 {
			t.Fatalf("calls = %d, want 2: a token near expiry must not be served", n)
		}
		h.aws.SetTokenLifetime(12 * time.Hour)
		r = h.ok(t, h.run(t, req(privateImage, "", nil), env))
		d, err := time.ParseDuration(r.CacheDuration)
		if err != nil || d < 11*time.Hour+50*time.Minute || d > 12*time.Hour-5*time.Minute {
			t.Errorf("cacheDuration = %q, want 12h minus the 5m margin", r.CacheDuration)
		}
		h.ok(t, h.run(t, req(privateImage, "", nil), env))
		if n := h.aws.Count(fakecloud.OpECRToken); n != 3 {
			t.Errorf("calls = %d, want 3", n)
		}
	})

	t.Run("expiry beyond ECR's 12 hours is clamped", func(t *testing.T) {
		h.aws.Reset()
		dir := privateDir(t)
		env := append([]string{"KCRED_CACHE_DIR=" + dir}, static...)
		h.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Body: `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":1e15}]}`})
		defer h.aws.Clear()
		for i := range 2 { // the fetch, then the cache hit
			r := h.ok(t, h.run(t, req(privateImage, "", nil), env))
			d, err := time.ParseDuration(r.CacheDuration)
			if err != nil || d > 12*time.Hour-5*time.Minute || d < 11*time.Hour+50*time.Minute {
				t.Errorf("exec %d: cacheDuration = %q, want at most 12h minus the 5m margin", i, r.CacheDuration)
			}
		}
		if n := h.aws.Count(fakecloud.OpECRToken); n != 1 {
			t.Errorf("calls = %d, want 1 (the second exec from the cache)", n)
		}
	})

	t.Run("unusable cache directory: no cache, no failure", func(t *testing.T) {
		h.aws.Reset()
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		env := append([]string{"KCRED_CACHE_DIR=" + filepath.Join(file, "cache")}, static...)
		for range 2 {
			h.credFor(t, h.ok(t, h.run(t, req(privateImage, "", nil), env)), privateHost)
		}
		if n := h.aws.Count(fakecloud.OpECRToken); n != 2 {
			t.Errorf("calls = %d, want 2 (one per exec, uncached)", n)
		}
	})

	t.Run("identities never share an entry", func(t *testing.T) {
		h.aws.Reset()
		h.aws.TrustRole(podRole)
		env := append([]string{"KCRED_CACHE_DIR=" + privateDir(t)}, static...)
		ann := map[string]string{roleARNAnn: podRole}
		node := h.credFor(t, h.ok(t, h.run(t, req(privateImage, "", nil), env)), privateHost)
		podA := h.credFor(t, h.ok(t, h.run(t, req(privateImage, "pod-a-jwt", ann), env)), privateHost)
		podB := h.credFor(t, h.ok(t, h.run(t, req(privateImage, "pod-b-jwt", ann), env)), privateHost)
		if node == podA || podA == podB || node == podB {
			t.Fatal("two identities were given the same token")
		}
		if n := h.aws.Count(fakecloud.OpECRToken); n != 3 {
			t.Fatalf("ECR calls = %d, want 3 (one per identity)", n)
		}
		// Each identity's own entry is warm.
		again := h.credFor(t, h.ok(t, h.run(t, req(privateImage, "pod-a-jwt", ann), env)), privateHost)
		if again != podA || h.aws.Count("") != 5 {
			t.Errorf("pod A's second exec: same token %t, calls %d (want 5: 3 ECR + 2 STS)", again == podA, h.aws.Count(""))
		}
	})
}

func TestExecCloudFailures(t *testing.T) {
	h := newHarness(t)
	env := append([]string{"KCRED_CACHE=off"}, h.aws.StaticEnv()...)

	// Default: 3 attempts; AWS_MAX_ATTEMPTS applies as with upstream.
	for _, tt := range []struct{ maxAttempts, want int }{{0, 3}, {4, 4}} {
		t.Run(fmt.Sprintf("throttled, AWS_MAX_ATTEMPTS=%d: bounded retries, then a clear error", tt.maxAttempts), func(t *testing.T) {
			h.aws.Reset()
			h.aws.Inject(fakecloud.OpECRToken, fakecloud.AWSThrottling(fakecloud.OpECRToken))
			defer h.aws.Clear()
			attempts := ""
			if tt.maxAttempts > 0 {
				attempts = strconv.Itoa(tt.maxAttempts)
			}
			start := time.Now()
			res := h.run(t, req(privateImage, "", nil), append(append([]string{}, env...), "AWS_MAX_ATTEMPTS="+attempts))
			fails(t, res, "get credentials for "+privateHost, "ThrottlingException", "AWS throttled every attempt")
			if n := h.aws.Count(fakecloud.OpECRToken); n != tt.want {
				t.Errorf("attempts = %d, want %d", n, tt.want)
			}
			if took := time.Since(start); took > 40*time.Second {
				t.Errorf("took %s, want well inside the kubelet's minute", took)
			}
		})
	}
	t.Run("5xx once is retried", func(t *testing.T) {
		h.aws.Reset()
		h.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Status: 503, Times: 1})
		h.ok(t, h.run(t, req(privateImage, "", nil), append([]string{"AWS_MAX_ATTEMPTS=3"}, env...)))
		if n := h.aws.Count(fakecloud.OpECRToken); n != 2 {
			t.Errorf("attempts = %d, want 2", n)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		res := h.run(t, req(privateImage, "", nil), append([]string{"AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=3"}, env...))
		fails(t, res, "get credentials for "+privateHost, "connection refused", "reaches the ECR endpoint (AWS_ENDPOINT_URL_ECR", "HTTPS_PROXY/NO_PROXY)")
	})
	t.Run("unreachable ECR Public", func(t *testing.T) {
		res := h.run(t, req("public.ecr.aws/lambda/python:3.12", "", nil), append([]string{"AWS_ENDPOINT_URL_ECR_PUBLIC=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}, env...))
		fails(t, res, "connection refused", "reaches the ECR Public endpoint (AWS_ENDPOINT_URL_ECR_PUBLIC", "HTTPS_PROXY/NO_PROXY)")
	})
	t.Run("unreachable STS", func(t *testing.T) {
		h.aws.TrustRole(podRole)
		res := h.run(t, req(privateImage, "pod-jwt", map[string]string{roleARNAnn: podRole}), append([]string{"AWS_ENDPOINT_URL_STS=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}, env...))
		fails(t, res, "connection refused", "reaches the STS endpoint (AWS_ENDPOINT_URL_STS", "HTTPS_PROXY/NO_PROXY)")
		if strings.Contains(res.Stderr, "trust policy") {
			t.Errorf("a network failure blamed on the trust policy: %s", res.Stderr)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		res := h.run(t, req(privateImage, "", nil), []string{"KCRED_CACHE=off", "AWS_ACCESS_KEY_ID=AKIAUNKNOWN", "AWS_SECRET_ACCESS_KEY=x"})
		fails(t, res, "UnrecognizedClientException", "may call ecr:GetAuthorizationToken)")
	})
	t.Run("wrong secret key", func(t *testing.T) {
		res := h.run(t, req(privateImage, "", nil), []string{"KCRED_CACHE=off", "AWS_ACCESS_KEY_ID=" + h.aws.StaticKeyID, "AWS_SECRET_ACCESS_KEY=not-" + h.aws.StaticSecret})
		fails(t, res, "StatusCode: 403", "InvalidSignatureException", "check the credentials in use")
		if strings.Contains(res.Stderr, h.aws.StaticSecret) {
			t.Errorf("stderr holds the secret key: %s", res.Stderr)
		}
	})
	t.Run("slow cloud: gives up inside the kubelet's minute", func(t *testing.T) {
		if testing.Short() {
			t.Skip("takes the full fetch timeout")
		}
		h.aws.Reset()
		h.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Delay: 12 * time.Second})
		defer h.aws.Clear()
		start := time.Now()
		res := h.run(t, req(privateImage, "", nil), append([]string{"AWS_MAX_ATTEMPTS=3"}, env...))
		fails(t, res, "get credentials for "+privateHost, "no answer after 30")
		if took := time.Since(start); took > 45*time.Second {
			t.Errorf("took %s, want the error well before the kubelet's one-minute kill", took)
		}
	})

	const notECR = "is not an AWS answer: check that the ECR endpoint (AWS_ENDPOINT_URL_ECR"
	malformed := []struct{ name, body, want string }{
		{"truncated JSON", `{"authorizationData":[{"authorizationToken":`, "ECR GetAuthorizationToken in eu-west-1"},
		{"empty list", `{"authorizationData":[]}`, "no authorizationData"},
		{"no token", `{"authorizationData":[{"expiresAt":1e10}]}`, "no authorizationToken"},
		{"not base64", `{"authorizationData":[{"authorizationToken":"***","expiresAt":1e10}]}`, "not valid base64"},
		{"no colon", `{"authorizationData":[{"authorizationToken":"QVdTcHc=","expiresAt":1e10}]}`, "not a user:password pair"},
		{"wrong type", `{"authorizationData":{"authorizationToken":"QVdTOnB3"}}`, "ECR GetAuthorizationToken in eu-west-1"},
		{"not JSON", `<html>proxy login</html>`, "ECR GetAuthorizationToken in eu-west-1"},
		{"implausible expiry", `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":1000}]}`, "read the cloud's answer"},
		// The pinned SDK (go.mod) refuses a string where the timestamp
		// number belongs, so these never reach the expiry check.
		{"NaN expiry", `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":"NaN"}]}`, "ECR GetAuthorizationToken in eu-west-1"},
		{"infinite expiry", `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":"Infinity"}]}`, "ECR GetAuthorizationToken in eu-west-1"},
		{"1e308 expiry", `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":1e308}]}`, "read the cloud's answer"},
		{"int64 max expiry", `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":9223372036854775807}]}`, "read the cloud's answer"},
	}
	for _, tt := range malformed {
		t.Run("malformed: "+tt.name, func(t *testing.T) {
			h.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Body: tt.body})
			defer h.aws.Clear()
			res := h.run(t, req(privateImage, "", nil), env)
			fails(t, res, tt.want)
			if strings.Contains(res.Stderr, "internal error") || strings.Contains(res.Stderr, "clock") {
				t.Errorf("a malformed answer reads as a crash or a clock problem: %s", res.Stderr)
			}
			if tt.want != "read the cloud's answer" && !strings.Contains(res.Stderr, notECR) {
				t.Errorf("stderr lacks %q: %s", notECR, res.Stderr)
			}
			if strings.Contains(res.Stderr, "proxy login") {
				t.Errorf("stderr echoes the answer: %s", res.Stderr)
			}
			if strings.Contains(res.Stderr, "panic") || strings.Contains(res.Stderr, "internal error") {
				t.Errorf("stderr: %s", res.Stderr)
			}
		})
	}
	t.Run("STS throttled", func(t *testing.T) {
		h.aws.TrustRole(podRole)
		h.aws.Inject(fakecloud.OpSTSWebIdentity, fakecloud.AWSThrottling(fakecloud.OpSTSWebIdentity))
		defer h.aws.Clear()
		res := h.run(t, req(privateImage, "pod-jwt", map[string]string{roleARNAnn: podRole}), env)
		fails(t, res, "assume role "+podRole, "Throttling")
	})
}

func TestExecNoSecretsInLogs(t *testing.T) {
	h := newHarness(t)
	h.aws.TrustRole(podRole)
	const saToken = "eyJhbGciOiJSUzI1NiJ9.pod-service-account-token.sig"
	env := append([]string{"KCRED_CACHE_DIR=" + privateDir(t)}, h.aws.StaticEnv()...)
	var secrets []string
	for _, c := range []struct {
		sa  string
		ann map[string]string
	}{{"", nil}, {saToken, map[string]string{roleARNAnn: podRole}}} {
		for range 2 { // cold, then warm
			res := h.run(t, req(privateImage, c.sa, c.ann), env, "--v=10", "get-credentials")
			r := h.ok(t, res)
			secrets = append(secrets, r.Auth[privateHost].Password)
			if !strings.Contains(res.Stderr, "level=DEBUG") {
				t.Fatalf("--v=10 logged no debug lines: %s", res.Stderr)
			}
			for _, s := range append(secrets, h.aws.StaticSecret, saToken) {
				if strings.Contains(res.Stderr, s) {
					t.Fatalf("stderr at --v=10 contains a secret:\n%s", res.Stderr)
				}
			}
		}
	}
	res := h.run(t, req(privateImage, saToken, map[string]string{roleARNAnn: "arn:aws:iam::123456789012:role/denied"}), env, "--v=10")
	if res.Code != 1 || strings.Contains(res.Stderr, saToken) {
		t.Fatalf("failed assume-role: exit %d, stderr contains the token: %t", res.Code, strings.Contains(res.Stderr, saToken))
	}
}

func TestExecCLI(t *testing.T) {
	h := newHarness(t)
	env := append([]string{"KCRED_CACHE=off"}, h.aws.StaticEnv()...)
	for _, args := range [][]string{{"get-credentials"}, {"--v=3"}, {"-v=2", "get-credentials"}, {"--role-annotation=example.com/role"}} {
		h.ok(t, h.run(t, req(privateImage, "", nil), env, args...))
	}
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		res := h.run(t, "", env, args...)
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, "ecr-credential-provider ") {
			t.Errorf("%v: exit %d, stdout %q", args, res.Code, res.Stdout)
		}
	}
	t.Run("configurable annotation", func(t *testing.T) {
		h.aws.Reset()
		h.aws.TrustRole(podRole)
		r := h.ok(t, h.run(t, req(privateImage, "pod-jwt", map[string]string{"eks.amazonaws.com/role-arn": podRole}), env,
			"--role-annotation=eks.amazonaws.com/role-arn"))
		h.credFor(t, r, privateHost)
		if n := h.aws.Count(fakecloud.OpSTSWebIdentity); n != 1 {
			t.Errorf("STS calls = %d, want 1", n)
		}
	})
}
