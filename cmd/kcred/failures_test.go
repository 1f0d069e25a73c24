package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/plugin"
)

// failure is one way a role is run wrong: args and env replace the role's
// fixture's, stdin is the request ("" means one for the fixture's image).
type failure struct {
	name        string
	args, env   []string
	stdin       string
	rawStdin    bool // stdin as is, even empty
	keepFixture bool // args and env are added to the fixture's
	// once are words the error line must say exactly once (a value a
	// library's message repeats, a name said twice).
	once []string
}

// badRequests are stdin that no role accepts.
var badRequests = map[string]string{
	"empty stdin":         "",
	"not JSON":            "hello",
	"YAML":                "kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nimage: r.io/a\n",
	"wrong kind":          `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}`,
	"unknown apiVersion":  `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v9","image":"r.io/a"}`,
	"missing image":       `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}`,
	"invalid image":       request(plugin.APIVersionV1, "r.io/UPPER"),
	"oversized":           `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a","x":"` + strings.Repeat("a", plugin.MaxRequestSize) + `"}`,
	"two objects":         request(plugin.APIVersionV1, "r.io/a") + request(plugin.APIVersionV1, "r.io/b"),
	"image of wrong type": `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":["r.io/a"]}`,
}

// roleFailures are each role's own failure paths: bad arguments and
// configuration and, for cloud roles, a cloud that refuses. A role added
// to the roles table needs an entry here.
func roleFailures(t *testing.T) map[string][]failure {
	t.Helper()
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		writeFile(t, path, content)
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// An AWS emulator that knows none of the keys below: it refuses.
	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	t.Cleanup(srv.Close)
	awsURL := srv.URL
	awsEnv := append(fakecloud.Env(awsURL), "AWS_ACCESS_KEY_ID=AKIAUNKNOWN", "AWS_SECRET_ACCESS_KEY=x")
	// Azure behind a proxy, with Entra refusing every client.
	proxy, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	az := fakecloud.NewAzure()
	az.Install(proxy, "myreg.azurecr.io")
	az.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 401, Body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`})
	azureSP := file("azure.json", `{"tenantId":"t","aadClientId":"c","aadClientSecret":"s3cret-azure"}`, 0o600)
	const ecrImage = "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app"

	// A credential helper that fails, and one that answers garbage.
	helper := func(name, script string) string {
		return file(name, "#!/bin/sh\n"+script+"\n", 0o700)
	}
	failing := helper("docker-credential-failing", "echo 'credentials not found in native keychain' >&2; exit 1")
	garbage := helper("docker-credential-garbage", "echo 'hello'")
	// A helper answering an identity token, and one flooding its stdout.
	identityToken := helper("docker-credential-identity", `echo '{"ServerURL":"r.io","Username":"<token>","Secret":"s3cret-helper"}'`)
	flood := helper("docker-credential-flood", "exec yes")
	saying := helper("docker-credential-saying", "echo 'vault sealed (ask ops) '\"$(head -c 3000 /dev/zero | tr '\\0' x)\" >&2; exit 1")
	// An AWS profile whose credential_process fails, printing a secret on
	// its stderr.
	credProcess := file("aws-config", "[profile proc]\ncredential_process = "+
		helper("aws-credential-process", "echo 'token=s3cret-process (denied)' >&2; echo '{\"Version\":1,\"SecretAccessKey\":\"s3cret-process\"}'; exit 3")+"\n", 0o600)
	// Entra refusing with a hostile error code and a long multi-byte
	// description, behind a proxy of its own.
	hostileProxy, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostileProxy.Close() })
	hostileAz := fakecloud.NewAzure()
	hostileAz.Install(hostileProxy, "myreg.azurecr.io")
	hostileAz.Inject(fakecloud.OpAzureToken, fakecloud.Fault{Status: 400, Body: `{"error":"invalid_client) (check nothing\u001b[2J","error_description":"AADSTS99999: ` + strings.Repeat("é", 400) + `"}`})
	const ocirImage, gcpImage = "iad.ocir.io/tenancyns/app:v1", "europe-docker.pkg.dev/p/r/app"
	// OCI instance metadata on loopback, refusing every call.
	refuse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(refuse.Close)
	ociMeta := "OCI_METADATA_BASE_URL=" + refuse.URL + "/opc/v2"

	return map[string][]failure{
		"credential-helper-provider": {
			{name: "no helper"},
			{name: "both helper flags", args: []string{"--helper", "pass", "--helper-path", failing}},
			{name: "helper name with a path", args: []string{"--helper", "a/b"}},
			{name: "helper not on PATH", args: []string{"--helper", "absent-kcred-test"}},
			{name: "unexpected argument", args: []string{"--helper-path", failing, "extra"}},
			{name: "negative cache duration", args: []string{"--helper-path", failing, "--cache-duration=-1m"}},
			{name: "helper writable by others", args: []string{"--helper-path", file("docker-credential-open", "#!/bin/sh\n", 0o777)}},
			{name: "helper fails", args: []string{"--helper-path", failing}},
			{name: "helper answers garbage", args: []string{"--helper-path", garbage}},
			{name: "helper answers an identity token", args: []string{"--helper-path", identityToken}},
			{name: "helper floods its stdout", args: []string{"--helper-path", flood}},
			{name: "helper fails saying why at length", args: []string{"--helper-path", saying}},
		},
		"auth-provider-gcp": {
			{name: "unknown auth flow", args: []string{"--authFlow=bogus"}, once: []string{`"bogus"`, "authFlow", "dockercfg-url"}},
			{name: "unknown auth flow, shorthand", args: []string{"get-credentials", "-a", "metadata"}, once: []string{`"metadata"`, "dockercfg-url"}},
			{name: "unknown command", args: []string{"get-credentials", "extra"}, once: []string{`"extra"`, "get-credentials"}},
			{name: "identity provider without a project", args: []string{"--identity-provider=https://oidc.example"}},
			{name: "missing credentials file", env: []string{"GOOGLE_APPLICATION_CREDENTIALS=" + filepath.Join(dir, "absent.json")}, stdin: request(plugin.APIVersionV1, gcpImage)},
			{name: "credentials file not JSON", env: []string{"GOOGLE_APPLICATION_CREDENTIALS=" + file("gcp-bad.json", "hello", 0o600)}, stdin: request(plugin.APIVersionV1, gcpImage)},
			{name: "refusing metadata server", env: []string{"GCE_METADATA_HOST=" + strings.TrimPrefix(refuse.URL, "http://")}, stdin: request(plugin.APIVersionV1, gcpImage)},
		},
		"oke-credential-provider": {
			{name: "missing config file", args: []string{"--config", filepath.Join(dir, "absent.yaml")}},
			{name: "config not YAML", args: []string{"--config", file("ocir-bad.yaml", "registryProtocol: [", 0o600)}},
			{name: "unknown auth method", env: []string{"OCIR_AUTH_METHOD=bogus"}},
			{name: "unknown protocol", env: []string{"REGISTRY_PROTOCOL=ftp"}},
			{name: "relative token path", env: []string{"REGISTRY_TOKEN_PATH=20180419/docker/token"}},
			{name: "refusing cloud", env: []string{ociMeta}, stdin: request(plugin.APIVersionV1, ocirImage)},
		},
		"ecr-credential-provider": {
			{name: "AWS_ECR_ROLE_ARN not an ARN", env: []string{"AWS_ECR_ROLE_ARN=nope"}, keepFixture: true},
			{name: "role annotation not an ARN", keepFixture: true,
				stdin: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + ecrImage + `","serviceAccountToken":"pod-jwt","serviceAccountAnnotations":{"eks.amazonaws.com/ecr-role-arn":"pod-puller"}}`},
			{name: "missing profile", env: []string{"AWS_PROFILE=nope"}, keepFixture: true},
			{name: "no region for another host", stdin: request(plugin.APIVersionV1, "mirror.example.com/app"), env: append(fakecloud.Env(awsURL), aws.StaticEnv()...)},
			{name: "no credentials", env: fakecloud.Env(awsURL), stdin: request(plugin.APIVersionV1, ecrImage)},
			{name: "refusing cloud", env: awsEnv, stdin: request(plugin.APIVersionV1, ecrImage)},
			{name: "unreachable cloud", env: append(awsEnv, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:1"), stdin: request(plugin.APIVersionV1, ecrImage)},
			{name: "credential_process fails", env: append(fakecloud.Env(awsURL), "AWS_CONFIG_FILE="+credProcess, "AWS_PROFILE=proc"), stdin: request(plugin.APIVersionV1, ecrImage)},
		},
		"acr-credential-provider": {
			{name: "no config argument"},
			{name: "two config arguments", args: []string{azureSP, azureSP}},
			{name: "missing config file", args: []string{filepath.Join(dir, "absent.json")}},
			{name: "unparsable config", args: []string{file("bad.json", `{"tenantId": [}`, 0o600)}},
			{name: "unknown cloud", args: []string{file("cloud.json", `{"cloud":"AzureGermanCloud","useManagedIdentityExtension":true}`, 0o600)}},
			{name: "no identity", args: []string{file("none.json", `{"tenantId":"t"}`, 0o600)}, stdin: request(plugin.APIVersionV1, "myreg.azurecr.io/app")},
			{name: "mirror without a target", args: []string{azureSP, "--registry-mirror=mcr.microsoft.com"}},
			{name: "mirror target not an ACR", args: []string{azureSP, "--registry-mirror=mcr.microsoft.com:ghcr.io"}},
			{name: "mirror target in another cloud", args: []string{azureSP, "--registry-mirror=mcr.microsoft.com:myreg.azurecr.cn"}},
			{name: "service account without the client annotation", args: []string{azureSP},
				stdin: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"myreg.azurecr.io/app","serviceAccountToken":"pod-jwt","serviceAccountAnnotations":{"kubernetes.azure.com/acr-tenant-id":"t"}}`},
			{name: "refusing cloud", args: []string{azureSP}, env: proxy.Env(), stdin: request(plugin.APIVersionV1, "myreg.azurecr.io/app")},
			{name: "Entra error with a hostile code and a long description", args: []string{azureSP}, env: hostileProxy.Env(), stdin: request(plugin.APIVersionV1, "myreg.azurecr.io/app")},
		},
		"dockerconfig-credential-provider": {
			{name: "unexpected argument", args: []string{"--config", file("docker-ok.json", `{"auths":{"r.io":{"auth":"dTpw"}}}`, 0o600), "extra"}},
			{name: "missing file", args: []string{"--config", filepath.Join(dir, "absent.json")}},
			{name: "not JSON", args: []string{"--config", file("docker-bad.json", "hello", 0o600)}},
			{name: "no auths", args: []string{"--config", file("docker-empty.json", `{"auths":{}}`, 0o600)}},
			{name: "auth not base64", args: []string{"--config", file("docker-b64.json", `{"auths":{"r.io":{"auth":"***"}}}`, 0o600)}},
		},
		"static-credential-provider": {
			{name: "unexpected argument", args: []string{"--config", file("static-ok.yaml", "registries:\n- registry: r.io\n  username: u\n  password: p\n", 0o600), "extra"}},
			{name: "missing file", args: []string{"--config", filepath.Join(dir, "absent.yaml")}},
			{name: "not a config", args: []string{"--config", file("static-bad.yaml", "hello: [", 0o600)}},
			{name: "no registries", args: []string{"--config", file("static-empty.yaml", "registries: []\n", 0o600)}},
			{name: "writable by others", args: []string{"--config", file("static-open.yaml", "registries:\n- registry: r.io\n  username: u\n  password: p\n", 0o666)}},
			{name: "a directory", args: []string{"--config", dir}},
		},
	}
}

// TestEveryFailureIsOneLine walks the failure paths of every role in the
// roles table, as the kubelet runs it (the built binary: what reaches
// stderr is a property of the process), and checks the form of each:
// exit 1, nothing on stdout, exactly one stderr line at --v=0 naming the
// role once at its start, at most one parenthesised hint, at the end.
func TestEveryFailureIsOneLine(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	fx := fixtures(t)
	own := roleFailures(t)
	for _, role := range roles {
		f, ok := fx[role.Name]
		cases, ok2 := own[role.Name]
		if !ok || !ok2 {
			t.Errorf("role %s has no fixture or no failure cases in cmd/kcred's tests: add them", role.Name)
			continue
		}
		cases = append(cases, failure{name: "unknown flag", args: []string{"--no-such-flag"}, keepFixture: true})
		for name, stdin := range badRequests {
			cases = append(cases, failure{name: name, stdin: stdin, rawStdin: true, keepFixture: true})
		}
		for _, name := range names(role) {
			bin := exectest.Link(t, name)
			for _, c := range cases {
				if name != role.Name && c.name != "empty stdin" {
					continue // an alias: once is enough to see the role's name
				}
				t.Run(name+"/"+c.name, func(t *testing.T) {
					args, env := c.args, c.env
					if c.keepFixture {
						args, env = append(append([]string{}, f.args...), c.args...), append(append([]string{}, f.env...), c.env...)
					}
					stdin := c.stdin
					if stdin == "" && !c.rawStdin {
						stdin = request(plugin.APIVersionV1, f.image)
					}
					res := exectest.Run(t, bin, args, append(exectest.CleanEnv(t), env...), stdin)
					r := providertest.Result{Code: res.Code, Stdout: res.Stdout, Stderr: res.Stderr}
					line := r.Failure(t, role.Name)
					t.Log(line)
					for _, w := range c.once {
						if n := strings.Count(line, w); n != 1 {
							t.Errorf("error line %q says %s %d times, want once", line, w, n)
						}
					}
					for _, secret := range []string{"s3cret-azure", "s3cret-static", "pod-jwt", "s3cret-process", "s3cret-helper"} {
						if strings.Contains(res.Stderr, secret) {
							t.Errorf("stderr holds a secret: %s", res.Stderr)
						}
					}
				})
			}
		}
	}
}
