package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/plugin"
)

var apiVersions = []string{plugin.APIVersionV1, plugin.APIVersionV1beta1, plugin.APIVersionV1alpha1}

func request(version, image string) string {
	return `{"kind":"CredentialProviderRequest","apiVersion":"` + version + `","image":"` + image + `"}`
}

// roleFixture is what each role needs to start: its arguments and env.
type roleFixture struct {
	args []string
	env  []string
	// image is one the role answers without failing, and wantKey the auth
	// key it must answer with ("" for an empty answer).
	image, wantKey string
}

func fixtures(t *testing.T) map[string]roleFixture {
	t.Helper()
	dir := t.TempDir()
	dockerCfg := filepath.Join(dir, "dockerconfig.json")
	writeFile(t, dockerCfg, `{"auths":{"registry.example.com:5000":{"username":"robot","password":"s3cret-static"}}}`)
	staticCfg := filepath.Join(dir, "static.yaml")
	writeFile(t, staticCfg, "registries:\n- registry: \"*.example.com:5000\"\n  username: robot\n  password: s3cret-static\n")
	helper := filepath.Join(dir, "docker-credential-fixture")
	writeFile(t, helper, "#!/bin/sh\necho '{\"ServerURL\":\"r\",\"Username\":\"robot\",\"Secret\":\"s3cret-static\"}'\n")
	if err := os.Chmod(helper, 0o700); err != nil {
		t.Fatal(err)
	}
	azureJSON := filepath.Join(dir, "azure.json")
	writeFile(t, azureJSON, `{"cloud":"AzurePublicCloud","tenantId":"t","aadClientId":"c","aadClientSecret":"s3cret-azure"}`)

	aws := fakecloud.NewAWS()
	srv := httptest.NewServer(aws.Handler())
	t.Cleanup(srv.Close)
	awsEnv := append(fakecloud.Env(srv.URL), aws.StaticEnv()...)
	awsEnv = append(awsEnv, "AWS_REGION=eu-west-3")

	g := fakecloud.NewGCP()
	md := httptest.NewServer(g.Metadata())
	t.Cleanup(md.Close)
	gcpEnv := []string{"GCE_METADATA_HOST=" + strings.TrimPrefix(md.URL, "http://")}

	return map[string]roleFixture{
		"auth-provider-gcp":                {args: []string{"get-credentials"}, env: gcpEnv, image: "europe-docker.pkg.dev/p/r/app", wantKey: "europe-docker.pkg.dev"},
		"dockerconfig-credential-provider": {args: []string{"--config", dockerCfg}, image: "registry.example.com:5000/team/app", wantKey: "registry.example.com:5000"},
		"credential-helper-provider":       {args: []string{"--helper-path", helper}, image: "registry.example.com:5000/team/app", wantKey: "registry.example.com:5000"},
		"static-credential-provider":       {args: []string{"--config", staticCfg}, image: "registry.example.com:5000/team/app", wantKey: "*.example.com:5000"},
		// A host that is not an ACR login server: an empty answer, no cloud call.
		"acr-credential-provider": {args: []string{azureJSON}, image: "evilazurecr.io/app"},
		"ecr-credential-provider": {args: []string{"get-credentials"}, env: awsEnv, image: "123456789012.dkr.ecr.eu-west-3.amazonaws.com/app", wantKey: "123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		// A host that is not OCIR: an empty answer, no metadata or OCI call.
		"oke-credential-provider": {image: "docker.io/library/nginx"},
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// names returns every name a role answers to.
func names(r plugin.Role) []string { return append([]string{r.Name}, r.Aliases...) }

func TestEveryRoleAnswersEveryAPIVersion(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	fx := fixtures(t)
	for _, role := range roles {
		f, ok := fx[role.Name]
		if !ok {
			t.Errorf("role %s has no fixture in this test: add one", role.Name)
			continue
		}
		for _, name := range names(role) {
			bin := exectest.Link(t, name)
			for _, version := range apiVersions {
				t.Run(name+"/"+version, func(t *testing.T) {
					res := exectest.Run(t, bin, append(f.args, "--v=10"), append(exectest.CleanEnv(t), f.env...), request(version, f.image))
					if res.Code != 0 {
						t.Fatalf("exit %d, stderr: %s", res.Code, res.Stderr)
					}
					var resp struct {
						Kind, APIVersion, CacheKeyType, CacheDuration string
						Auth                                          map[string]struct{ Username, Password string }
					}
					dec := json.NewDecoder(strings.NewReader(res.Stdout))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&resp); err != nil {
						t.Fatalf("response %q: %v", res.Stdout, err)
					}
					if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != version {
						t.Errorf("kind/apiVersion = %s %s, want CredentialProviderResponse %s", resp.Kind, resp.APIVersion, version)
					}
					if f.wantKey == "" && len(resp.Auth) != 0 {
						t.Errorf("auth = %v, want an empty answer", resp.Auth)
					}
					if f.wantKey != "" && resp.Auth[f.wantKey].Password == "" {
						t.Errorf("auth = %v, want a credential under %q", resp.Auth, f.wantKey)
					}
					for _, a := range resp.Auth {
						if a.Password != "" && strings.Contains(res.Stderr, a.Password) {
							t.Errorf("the password appears on stderr at --v=10")
						}
					}
					for _, secret := range []string{"s3cret-static", "s3cret-azure"} {
						if strings.Contains(res.Stderr, secret) {
							t.Errorf("secret %q appears on stderr", secret)
						}
					}
				})
			}
		}
	}
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name       string
		invokedAs  string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "unknown name lists roles", invokedAs: "foo-credential-provider", wantCode: 2, wantStderr: "ecr-credential-provider"},
		{name: "windows suffix stripped", invokedAs: "dockerconfig-credential-provider.exe", args: []string{"--version"}, wantStdout: "dockerconfig-credential-provider (kcred)"},
		{name: "kcred without args", invokedAs: "kcred", wantCode: 2, wantStderr: "Usage:"},
		{name: "release file name is the tool", invokedAs: "kcred-linux-amd64", args: []string{"version"}, wantStdout: "kcred "},
		{name: "kcred help", invokedAs: "kcred", args: []string{"--help"}, wantStdout: "kcred plugin ROLE"},
		{name: "kcred version", invokedAs: "kcred", args: []string{"version"}, wantStdout: "kcred "},
		{name: "kcred unknown command", invokedAs: "kcred", args: []string{"frob"}, wantCode: 2, wantStderr: `unknown command "frob"`},
		{name: "kcred plugin without role", invokedAs: "kcred", args: []string{"plugin"}, wantCode: 2, wantStderr: "name a role"},
		{name: "kcred plugin unknown role", invokedAs: "kcred", args: []string{"plugin", "nope"}, wantCode: 2, wantStderr: `unknown role "nope"`},
		{name: "kcred plugin runs the role", invokedAs: "kcred", args: []string{"plugin", "ecr-credential-provider", "--version"}, wantStdout: "ecr-credential-provider (kcred)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := exectest.Run(t, exectest.Link(t, tt.invokedAs), tt.args, exectest.CleanEnv(t), "")
			if res.Code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", res.Code, tt.wantCode, res.Stderr)
			}
			if !strings.Contains(res.Stdout, tt.wantStdout) || !strings.Contains(res.Stderr, tt.wantStderr) {
				t.Errorf("stdout %q stderr %q; want %q / %q", res.Stdout, res.Stderr, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
