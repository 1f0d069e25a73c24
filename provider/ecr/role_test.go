package ecr_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/ecr"
)

// These tests hold what is ECR's own (host forms and endpoints, identity
// sources, service-account role selection, ECR's hints, its flags); the
// contracts every cloud role keeps are the conformance suite's. They run
// the role in-process against the AWS emulator on loopback.

const (
	privateImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app"
	privateHost  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	podRole      = "arn:aws:iam::123456789012:role/pod-puller"
	roleARNAnn   = ecr.DefaultRoleAnnotation
)

func TestMain(m *testing.M) { providertest.Main(m) }

// cloud is the AWS emulator on a loopback server and the role wired to it
// (its World's Env points every endpoint at the emulator).
type cloud struct {
	aws   *fakecloud.AWS
	url   string
	conns atomic.Int64
	world *providertest.World
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	exectest.RequireIsolatedNetwork(t)
	c := &cloud{aws: fakecloud.NewAWS()}
	srv := httptest.NewUnstartedServer(c.aws.Handler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c.url = srv.URL
	c.world = &providertest.World{Role: ecr.Role, Env: fakecloud.Env(srv.URL), Image: privateImage, Registry: privateHost}
	return c
}

// run runs the role in-process with the emulator's endpoints, then env,
// and the token cache off.
func (c *cloud) run(t *testing.T, env []string, req providertest.Request, flags ...string) providertest.Result {
	t.Helper()
	c.world.Setenv(t, append([]string{"KCRED_CACHE=off"}, env...)...)
	return c.world.Main(t, t.TempDir(), req, flags...)
}

// credFor checks that res holds exactly one emulator-issued credential,
// keyed by key, and returns its password.
func (c *cloud) credFor(t *testing.T, res providertest.Result, key string) string {
	t.Helper()
	out := res.Response(t)
	a, ok := out.Auth[key]
	if !ok || len(out.Auth) != 1 || !c.aws.ValidCredential(a.Username, a.Password) {
		t.Fatalf("auth %v, want exactly one credential the emulator issued, under %q", out.Auth, key)
	}
	return a.Password
}

// fails checks the failure form, that ECR's line ends with what to check
// (docs/providers/ecr.md promises it), and that it holds every want.
func fails(t *testing.T, res providertest.Result, want ...string) string {
	t.Helper()
	line := res.Failure(t, ecr.Role.Name)
	if !strings.HasSuffix(line, ")") {
		t.Errorf("error line %q does not end with (<what to check>)", line)
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("error %q lacks %q", line, w)
		}
	}
	return line
}

func saRequest(image, token string, ann map[string]string) providertest.Request {
	r := providertest.NewRequest(image)
	r.SAToken, r.Annotations = token, ann
	return r
}

func TestHostForms(t *testing.T) {
	c := newCloud(t)
	static := c.aws.StaticEnv()
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
			c.aws.Reset()
			c.credFor(t, c.run(t, append(static, tt.env...), providertest.NewRequest(tt.image)), tt.key)
			op := fakecloud.OpECRToken
			if tt.service == "ecr-public" {
				op = fakecloud.OpECRPublicToken
			}
			calls := c.aws.Calls(op)
			if len(calls) != 1 || calls[0].Form["region"] != tt.region || calls[0].Form["service"] != tt.service {
				t.Fatalf("calls = %+v; want one %s call signed for %s/%s", calls, op, tt.region, tt.service)
			}
		})
	}
	t.Run("other host without a region", func(t *testing.T) {
		fails(t, c.run(t, static, providertest.NewRequest("mirror.example.com/app")), "no region for mirror.example.com", "AWS_REGION")
	})
}

// TestRegistryMirror: with the runtime's --registry-mirror, an image under
// the source gets the ECR target's credential under both keys; the token
// is the target region's, whatever AWS_REGION says.
func TestRegistryMirror(t *testing.T) {
	c := newCloud(t)
	env := append([]string{"AWS_REGION=sa-east-1"}, c.aws.StaticEnv()...)
	flags := []string{"get-credentials", "--registry-mirror=mirror.local:5000/team:" + privateHost, "--registry-mirror", "docker.io:" + privateHost}
	for image, source := range map[string]string{
		"mirror.local:5000/team/app:v1": "mirror.local:5000/team",
		"nginx:1.27":                    "docker.io",
	} {
		c.aws.Reset()
		out := c.run(t, env, providertest.NewRequest(image), flags...).Response(t)
		src, dst := out.Auth[source], out.Auth[privateHost]
		if len(out.Auth) != 2 || src != dst || !c.aws.ValidCredential(src.Username, src.Password) {
			t.Fatalf("%s: auth %v; want the target's emulator-issued credential under %s and %s", image, out.Auth, source, privateHost)
		}
		if calls := c.aws.Calls(fakecloud.OpECRToken); len(calls) != 1 || calls[0].Form["region"] != "eu-west-1" {
			t.Fatalf("%s: calls %+v; want one token call for the target's region eu-west-1", image, calls)
		}
	}
	c.aws.Reset()
	c.credFor(t, c.run(t, env, providertest.NewRequest("mirror.local:5000/other/app"), flags...), "mirror.local:5000")
	if calls := c.aws.Calls(fakecloud.OpECRToken); len(calls) != 1 || calls[0].Form["region"] != "sa-east-1" {
		t.Fatalf("unmirrored path: calls %+v; want the configured region", calls)
	}
	fails(t, c.run(t, env, providertest.NewRequest(privateImage), "--registry-mirror=mirror.local"), `registry mirror "mirror.local"`, "want SOURCE:TARGET")
}

// TestRealHostNames goes through the test binary's HTTPS proxy with no
// endpoint overrides, so the SDK picks the real API host: FIPS and
// dual-stack registry hosts reach the FIPS and dual-stack endpoints.
func TestRealHostNames(t *testing.T) {
	c := newCloud(t)
	proxy := providertest.Proxy(t)
	for _, host := range []string{"api.ecr.eu-west-1.amazonaws.com", "api.ecr-fips.us-east-1.amazonaws.com",
		"ecr.us-west-2.api.aws", "api.ecr-public.us-east-1.amazonaws.com", "ecr-public.us-east-1.api.aws",
		"sts.eu-west-1.amazonaws.com", "169.254.169.254"} {
		proxy.Route(host, c.aws.Handler())
	}
	c.aws.TrustRole(podRole)
	static := c.aws.StaticEnv()
	// Instance metadata at its real address, reached through HTTP_PROXY.
	imds := []string{"AWS_EC2_METADATA_DISABLED=false"}
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
			c.aws.Reset()
			var ann map[string]string
			if tt.saToken != "" {
				ann = map[string]string{roleARNAnn: podRole}
			}
			providertest.Setenv(t, append([]string{"KCRED_CACHE=off"}, tt.env...))
			host, _, _ := strings.Cut(tt.image, "/")
			c.credFor(t, c.world.Main(t, t.TempDir(), saRequest(tt.image, tt.saToken, ann)), host)
			var got []string
			for _, call := range c.aws.Calls() {
				h, _, err := net.SplitHostPort(call.Host)
				if err != nil {
					h = call.Host
				}
				got = append(got, h)
			}
			if strings.Join(got, " ") != strings.Join(tt.hosts, " ") {
				t.Fatalf("calls went to %v, want %v", got, tt.hosts)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIdentities(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	credsFile := writeFile(t, filepath.Join(dir, "credentials"), "[puller]\naws_access_key_id = "+c.aws.StaticKeyID+
		"\naws_secret_access_key = "+c.aws.StaticSecret+"\n")
	const nodeRole = "arn:aws:iam::123456789012:role/node-puller"
	c.aws.TrustRole(nodeRole)
	c.aws.TrustRole(podRole)
	tokenFile := writeFile(t, filepath.Join(dir, "web-identity-token"), "node-web-identity-jwt")
	configFile := writeFile(t, filepath.Join(dir, "config"), "[profile web]\nrole_arn = "+nodeRole+"\nweb_identity_token_file = "+tokenFile+"\n")

	tests := []struct {
		name      string
		env       []string
		saToken   string
		ann       map[string]string
		wantOps   map[string]int
		wantRole  string // role STS was asked for
		issuedKey bool   // ECR signed with a key IMDS, STS or the container endpoint issued (not the static one)
	}{
		{name: "static env", env: c.aws.StaticEnv(), wantOps: map[string]int{fakecloud.OpECRToken: 1}},
		{name: "profile", env: []string{"AWS_SHARED_CREDENTIALS_FILE=" + credsFile, "AWS_PROFILE=puller"}, wantOps: map[string]int{fakecloud.OpECRToken: 1}},
		{name: "profile with a web-identity role", env: []string{"AWS_CONFIG_FILE=" + configFile, "AWS_PROFILE=web"}, issuedKey: true, wantRole: nodeRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "instance metadata", env: []string{"AWS_EC2_METADATA_DISABLED=false"}, issuedKey: true,
			wantOps: map[string]int{fakecloud.OpIMDSToken: 1, fakecloud.OpIMDSRole: 1, fakecloud.OpIMDSCredentials: 1, fakecloud.OpECRToken: 1}},
		{name: "container credentials", env: c.aws.ContainerEnv(c.url), issuedKey: true,
			wantOps: map[string]int{fakecloud.OpContainerCreds: 1, fakecloud.OpECRToken: 1}},
		{name: "web identity", env: []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + nodeRole}, issuedKey: true, wantRole: nodeRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account, annotation", env: append([]string{"AWS_EC2_METADATA_DISABLED=false"}, c.aws.StaticEnv()...),
			saToken: "pod-jwt", ann: map[string]string{roleARNAnn: podRole}, issuedKey: true, wantRole: podRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account, AWS_ECR_ROLE_ARN", env: []string{"AWS_ECR_ROLE_ARN=" + podRole},
			saToken: "pod-jwt", issuedKey: true, wantRole: podRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account, annotation wins over AWS_ECR_ROLE_ARN", env: []string{"AWS_ECR_ROLE_ARN=" + nodeRole},
			saToken: "pod-jwt", ann: map[string]string{roleARNAnn: podRole}, issuedKey: true, wantRole: podRole,
			wantOps: map[string]int{fakecloud.OpSTSWebIdentity: 1, fakecloud.OpECRToken: 1}},
		{name: "service account without a role uses node credentials", env: c.aws.StaticEnv(),
			saToken: "pod-jwt", ann: map[string]string{"eks.amazonaws.com/role-arn": podRole},
			wantOps: map[string]int{fakecloud.OpECRToken: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.aws.Reset()
			c.credFor(t, c.run(t, tt.env, saRequest(privateImage, tt.saToken, tt.ann)), privateHost)
			total := 0
			for op, n := range tt.wantOps {
				total += n
				if got := c.aws.Count(op); got != n {
					t.Errorf("%s calls = %d, want %d", op, got, n)
				}
			}
			if got := c.aws.Count(""); got != total {
				t.Errorf("%d calls in all, want %d: %+v", got, total, c.aws.Calls())
			}
			sts := c.aws.Calls(fakecloud.OpSTSWebIdentity)
			if tt.wantRole != "" && (len(sts) != 1 || sts[0].Form["RoleArn"] != tt.wantRole) {
				t.Errorf("STS calls = %+v, want one for %s", sts, tt.wantRole)
			}
			if tt.saToken != "" && tt.wantRole != "" && len(sts) == 1 && sts[0].Form["WebIdentityToken"] != tt.saToken {
				t.Error("STS was not given the pod's token")
			}
			ecrCalls := c.aws.Calls(fakecloud.OpECRToken)
			if isStatic := len(ecrCalls) == 1 && ecrCalls[0].Form["akid"] == c.aws.StaticKeyID; isStatic == tt.issuedKey {
				t.Errorf("ECR calls %+v; want signed with the static key: %t", ecrCalls, !tt.issuedKey)
			}
		})
	}

	t.Run("role that cannot be assumed fails without falling back", func(t *testing.T) {
		c.aws.Reset()
		const denied = "arn:aws:iam::123456789012:role/not-trusted"
		fails(t, c.run(t, c.aws.StaticEnv(), saRequest(privateImage, "pod-jwt", map[string]string{roleARNAnn: denied})),
			"assume role "+denied, "AccessDenied", "trust policy")
		if n := c.aws.Count(fakecloud.OpECRToken); n != 0 {
			t.Errorf("%d ECR calls after a failed assume-role; want none (no fall-back to node credentials)", n)
		}
	})
	t.Run("malformed role annotation", func(t *testing.T) {
		fails(t, c.run(t, nil, saRequest(privateImage, "pod-jwt", map[string]string{roleARNAnn: "pod-puller"})), "annotation "+roleARNAnn, "not an IAM role ARN")
	})
	t.Run("malformed AWS_ECR_ROLE_ARN", func(t *testing.T) {
		fails(t, c.run(t, []string{"AWS_ECR_ROLE_ARN=nope"}, providertest.NewRequest(privateImage)), "AWS_ECR_ROLE_ARN", "not an IAM role ARN")
	})
	t.Run("missing profile", func(t *testing.T) {
		fails(t, c.run(t, []string{"AWS_PROFILE=nope", "AWS_SHARED_CREDENTIALS_FILE=" + credsFile}, providertest.NewRequest(privateImage)),
			"load AWS configuration", "nope", "check AWS_PROFILE")
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		c.aws.Reset()
		fails(t, c.run(t, nil, providertest.NewRequest(privateImage)), "get node credentials", "check the instance profile")
		if n := c.aws.Count(""); n != 0 {
			t.Errorf("%d cloud calls without credentials, want 0", n)
		}
	})
	t.Run("instance metadata without a role", func(t *testing.T) {
		c.aws.Reset()
		c.aws.Inject(fakecloud.OpIMDSRole, fakecloud.Fault{Status: 404})
		defer c.aws.Clear()
		fails(t, c.run(t, []string{"AWS_EC2_METADATA_DISABLED=false"}, providertest.NewRequest(privateImage)), "get node credentials", "no EC2 IMDS role found")
		if n := c.aws.Count(fakecloud.OpECRToken); n != 0 {
			t.Errorf("%d ECR calls without credentials, want 0", n)
		}
	})
}

// cachedCloud is a cloud whose runs share the token cache dir: the static
// key as node identity, in one environment for the whole test (CleanEnv's
// paths take part in the node fingerprint), and podRole trusted.
func cachedCloud(t *testing.T) (c *cloud, dir string) {
	c = newCloud(t)
	c.aws.TrustRole(podRole)
	c.world.Setenv(t, c.aws.StaticEnv()...)
	return c, t.TempDir()
}

// TestCacheKeys: what ECR's tokens are good for. One token serves every
// registry of a region; the node and each pod token have entries of their
// own; the 12-hour cap holds for the answer and the cached entry.
func TestCacheKeys(t *testing.T) {
	c, dir := cachedCloud(t)
	main := func(req providertest.Request) providertest.Result { return c.world.Main(t, dir, req) }

	t.Run("one token per region", func(t *testing.T) {
		first := c.credFor(t, main(providertest.NewRequest(privateImage)), privateHost)
		calls := c.aws.Count("")
		if second := c.credFor(t, main(providertest.NewRequest("210987654321.dkr.ecr.eu-west-1.amazonaws.com/x")), "210987654321.dkr.ecr.eu-west-1.amazonaws.com"); second != first {
			t.Error("another registry of the region got another token")
		}
		if got := c.aws.Count(""); got != calls {
			t.Errorf("another registry of the region made %d cloud calls, want 0", got-calls)
		}
	})
	t.Run("identities never share an entry", func(t *testing.T) {
		c.aws.Reset()
		ann := map[string]string{roleARNAnn: podRole}
		node := c.credFor(t, main(providertest.NewRequest(privateImage)), privateHost)
		podA := c.credFor(t, main(saRequest(privateImage, "pod-a-jwt", ann)), privateHost)
		podB := c.credFor(t, main(saRequest(privateImage, "pod-b-jwt", ann)), privateHost)
		if node == podA || podA == podB || node == podB {
			t.Fatal("two identities were given the same token")
		}
		if n := c.aws.Count(fakecloud.OpECRToken); n != 2 {
			t.Fatalf("ECR calls = %d, want 2 (the node's entry was warm; one per pod token)", n)
		}
		if again := c.credFor(t, main(saRequest(privateImage, "pod-a-jwt", ann)), privateHost); again != podA || c.aws.Count("") != 4 {
			t.Errorf("pod A's second exec: same token %t, calls %d (want 4: 2 ECR + 2 STS)", again == podA, c.aws.Count(""))
		}
	})
	t.Run("expiry beyond ECR's 12 hours is capped", func(t *testing.T) {
		c.aws.Reset()
		c.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Body: `{"authorizationData":[{"authorizationToken":"QVdTOnB3","expiresAt":1e15}]}`})
		defer c.aws.Clear()
		const image = "123456789012.dkr.ecr.ap-east-1.amazonaws.com/app"
		for i := range 2 { // the fetch, then the cache hit
			out := main(providertest.NewRequest(image)).Response(t)
			d, err := time.ParseDuration(out.CacheDuration)
			if err != nil || d > 12*time.Hour-plugin.Margin || d < 12*time.Hour-plugin.Margin-10*time.Minute {
				t.Errorf("exec %d: cacheDuration = %q, want at most 12h minus the margin", i, out.CacheDuration)
			}
		}
		if n := c.aws.Count(fakecloud.OpECRToken); n != 1 {
			t.Errorf("calls = %d, want 1 (the second exec from the cache)", n)
		}
	})
}

func TestCloudFailures(t *testing.T) {
	c := newCloud(t)
	static := c.aws.StaticEnv()
	req := providertest.NewRequest(privateImage)

	// Default: 3 attempts; AWS_MAX_ATTEMPTS applies as with upstream.
	for _, tt := range []struct{ maxAttempts, want int }{{0, 3}, {2, 2}} {
		t.Run(fmt.Sprintf("throttled, AWS_MAX_ATTEMPTS=%d: bounded retries, then a clear error", tt.maxAttempts), func(t *testing.T) {
			c.aws.Reset()
			c.aws.Inject(fakecloud.OpECRToken, fakecloud.AWSThrottling(fakecloud.OpECRToken))
			defer c.aws.Clear()
			attempts := ""
			if tt.maxAttempts > 0 {
				attempts = strconv.Itoa(tt.maxAttempts)
			}
			fails(t, c.run(t, append(static, "AWS_MAX_ATTEMPTS="+attempts), req), "get credentials for "+privateHost, "ThrottlingException", "AWS throttled every attempt")
			if n := c.aws.Count(fakecloud.OpECRToken); n != tt.want {
				t.Errorf("attempts = %d, want %d", n, tt.want)
			}
		})
	}
	t.Run("5xx once is retried", func(t *testing.T) {
		c.aws.Reset()
		c.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Status: 503, Times: 1})
		c.credFor(t, c.run(t, append(static, "AWS_MAX_ATTEMPTS=3"), req), privateHost)
		if n := c.aws.Count(fakecloud.OpECRToken); n != 2 {
			t.Errorf("attempts = %d, want 2", n)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		fails(t, c.run(t, append(static, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1"), req),
			"get credentials for "+privateHost, "connection refused", "reaches the ECR endpoint (AWS_ENDPOINT_URL_ECR", "HTTPS_PROXY/NO_PROXY)")
	})
	t.Run("unreachable ECR Public", func(t *testing.T) {
		fails(t, c.run(t, append(static, "AWS_ENDPOINT_URL_ECR_PUBLIC=http://127.0.0.1:1"), providertest.NewRequest("public.ecr.aws/lambda/python:3.12")),
			"connection refused", "reaches the ECR Public endpoint (AWS_ENDPOINT_URL_ECR_PUBLIC", "HTTPS_PROXY/NO_PROXY)")
	})
	t.Run("unreachable STS", func(t *testing.T) {
		c.aws.TrustRole(podRole)
		line := fails(t, c.run(t, append(static, "AWS_ENDPOINT_URL_STS=http://127.0.0.1:1"), saRequest(privateImage, "pod-jwt", map[string]string{roleARNAnn: podRole})),
			"connection refused", "reaches the STS endpoint (AWS_ENDPOINT_URL_STS", "HTTPS_PROXY/NO_PROXY)")
		if strings.Contains(line, "trust policy") {
			t.Errorf("a network failure blamed on the trust policy: %s", line)
		}
	})
	t.Run("unknown access key", func(t *testing.T) {
		fails(t, c.run(t, []string{"AWS_ACCESS_KEY_ID=AKIAUNKNOWN", "AWS_SECRET_ACCESS_KEY=x"}, req), "UnrecognizedClientException", "may call ecr:GetAuthorizationToken)")
	})
	t.Run("wrong secret key", func(t *testing.T) {
		res := c.run(t, []string{"AWS_ACCESS_KEY_ID=" + c.aws.StaticKeyID, "AWS_SECRET_ACCESS_KEY=not-" + c.aws.StaticSecret}, req, "--v=10")
		if strings.Contains(res.Stderr, c.aws.StaticSecret) {
			t.Errorf("stderr at --v=10 holds the secret key: %s", res.Stderr)
		}
		lines := strings.Split(strings.TrimSuffix(res.Stderr, "\n"), "\n")
		last := lines[len(lines)-1]
		for _, w := range []string{"StatusCode: 403", "InvalidSignatureException", "check the credentials in use"} {
			if res.Code != 1 || !strings.Contains(last, w) {
				t.Errorf("exit %d, error %q; want exit 1 and %q", res.Code, last, w)
			}
		}
	})
	t.Run("STS throttled", func(t *testing.T) {
		c.aws.TrustRole(podRole)
		c.aws.Inject(fakecloud.OpSTSWebIdentity, fakecloud.AWSThrottling(fakecloud.OpSTSWebIdentity))
		defer c.aws.Clear()
		fails(t, c.run(t, static, saRequest(privateImage, "pod-jwt", map[string]string{roleARNAnn: podRole})), "assume role "+podRole, "Throttling", "AWS throttled every attempt")
	})
	t.Run("slow cloud: the SDK's deadline reads as no answer", func(t *testing.T) {
		// The fetch bound itself is the driver's (plugin.FetchTimeout); here a
		// shorter deadline proves the SDK's error under it is classified so.
		c.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Delay: 3 * time.Second})
		defer c.aws.Clear()
		c.world.Setenv(t, static...)
		d, err := ecr.New(plugin.Env{Role: ecr.Role.Name}, ecr.Options{Getenv: os.Getenv})
		if err != nil {
			t.Fatal(err)
		}
		r, err := plugin.DecodeRequest([]byte(`{"kind":"CredentialProviderRequest","apiVersion":"` + plugin.APIVersionV1 + `","image":"` + privateImage + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err = d.Credentials(ctx, r)
		if err == nil || !strings.Contains(err.Error(), "no answer after 1") || !strings.HasSuffix(err.Error(), ")") {
			t.Errorf("err %v, want no answer after 1s and a hint", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("gave up after %s, want at the deadline", took)
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
			c.aws.Inject(fakecloud.OpECRToken, fakecloud.Fault{Body: tt.body})
			defer c.aws.Clear()
			line := fails(t, c.run(t, static, req), tt.want)
			if strings.Contains(line, "internal error") || strings.Contains(line, "clock") || strings.Contains(line, "panic") {
				t.Errorf("a malformed answer reads as a crash or a clock problem: %s", line)
			}
			if tt.want != "read the cloud's answer" && !strings.Contains(line, notECR) {
				t.Errorf("error lacks %q: %s", notECR, line)
			}
			if strings.Contains(line, "proxy login") {
				t.Errorf("error echoes the answer: %s", line)
			}
		})
	}
}

// TestNoSecretsInLogs: the static secret key, which only ECR's environment
// holds, never reaches stderr at --v=10, cold or warm (the suite checks the
// password and the service-account token).
func TestNoSecretsInLogs(t *testing.T) {
	c, dir := cachedCloud(t)
	for _, req := range []providertest.Request{providertest.NewRequest(privateImage), saRequest(privateImage, "pod-jwt", map[string]string{roleARNAnn: podRole})} {
		for range 2 { // cold, then warm
			res := c.world.Main(t, dir, req, "--v=10", "get-credentials")
			pass := c.credFor(t, res, privateHost)
			if !strings.Contains(res.Stderr, "level=DEBUG") {
				t.Fatalf("--v=10 logged no debug lines: %s", res.Stderr)
			}
			for _, s := range []string{pass, c.aws.StaticSecret} {
				if strings.Contains(res.Stderr, s) {
					t.Fatalf("stderr at --v=10 contains a secret:\n%s", res.Stderr)
				}
			}
		}
	}
}

func TestCLI(t *testing.T) {
	c := newCloud(t)
	for _, flags := range [][]string{{"get-credentials"}, {"--v=3"}, {"-v=2", "get-credentials"}, {"--role-annotation=example.com/role"}} {
		c.credFor(t, c.run(t, c.aws.StaticEnv(), providertest.NewRequest(privateImage), flags...), privateHost)
	}
	for _, flag := range []string{"--version", "-v"} {
		res := c.run(t, nil, providertest.Request{}, flag)
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, ecr.Role.Name+" ") {
			t.Errorf("%s: exit %d, stdout %q", flag, res.Code, res.Stdout)
		}
	}
	t.Run("configurable annotation", func(t *testing.T) {
		c.aws.Reset()
		c.aws.TrustRole(podRole)
		res := c.run(t, c.aws.StaticEnv(), saRequest(privateImage, "pod-jwt", map[string]string{"eks.amazonaws.com/role-arn": podRole}),
			"--role-annotation=eks.amazonaws.com/role-arn")
		c.credFor(t, res, privateHost)
		if n := c.aws.Count(fakecloud.OpSTSWebIdentity); n != 1 {
			t.Errorf("STS calls = %d, want 1", n)
		}
	})
}
