package registrytest_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/registrytest"
)

// answer is the part of a CredentialProviderResponse a pull needs.
type answer struct {
	Auth map[string]struct{ Username, Password string } `json:"auth"`
}

// credentialFor runs the built binary under role and returns the credential
// it answers for registry key.
func credentialFor(t *testing.T, role string, args, env []string, image, key string) (user, pass string) {
	t.Helper()
	req := `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"}`
	res := exectest.Run(t, exectest.Link(t, role), args, env, req)
	if res.Code != 0 {
		t.Fatalf("%s exited %d: %s", role, res.Code, res.Stderr)
	}
	var a answer
	if err := json.Unmarshal([]byte(res.Stdout), &a); err != nil {
		t.Fatalf("%s answered %q: %v", role, res.Stdout, err)
	}
	c, ok := a.Auth[key]
	if !ok {
		t.Fatalf("%s answered no credential for %s: %s", role, key, res.Stdout)
	}
	return c.Username, c.Password
}

// pushAndPull seeds an image in reg under host, then pulls it through the
// proxy with user/pass (must succeed) and with a tampered password and
// anonymously (must be refused).
func pushAndPull(t *testing.T, p *fakecloud.Proxy, reg *registrytest.Registry, ref, user, pass string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tr := remote.WithTransport(p.Client().Transport)
	admin, adminPass := reg.Admin()
	if _, err := registrytest.Push(ctx, ref, admin, adminPass, tr); err != nil {
		t.Fatal(err)
	}
	if err := registrytest.Pull(ctx, ref, user, pass, tr); err != nil {
		t.Fatalf("pull with the plugin's credential: %v", err)
	}
	for _, c := range []struct{ user, pass string }{{user, pass + "x"}, {"", ""}} {
		if err := registrytest.Pull(ctx, ref, c.user, c.pass, tr); !registrytest.IsUnauthorized(err) {
			t.Fatalf("pull with a wrong credential: got %v, want 401", err)
		}
	}
}

// The ECR token the plugin fetched from the AWS emulator pulls from a
// registry that accepts exactly the tokens that emulator issued.
func TestECRPluginCredentialPulls(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	aws := fakecloud.NewAWS()
	awsSrv := httptest.NewServer(aws.Handler())
	defer awsSrv.Close()
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reg, err := registrytest.New(registrytest.Options{Basic: aws.ValidCredential})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	const host = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
	p.Route(host, reg)

	env := append(exectest.CleanEnv(t), fakecloud.Env(awsSrv.URL)...)
	env = append(env, aws.StaticEnv()...)
	user, pass := credentialFor(t, "ecr-credential-provider", []string{"get-credentials"}, env, host+"/team/app", host)
	pushAndPull(t, p, reg, host+"/team/app:v1", user, pass)

	// A token past its expiry is refused like a wrong one. ECR expiries are
	// whole seconds, so a 1-second token has expired 2 seconds later.
	aws.SetTokenLifetime(time.Second)
	env = append(env, "KCRED_CACHE_DIR="+t.TempDir())
	user, pass = credentialFor(t, "ecr-credential-provider", []string{"get-credentials"}, env, host+"/team/app", host)
	time.Sleep(2 * time.Second)
	err = registrytest.Pull(context.Background(), host+"/team/app:v1", user, pass, remote.WithTransport(p.Client().Transport))
	if !registrytest.IsUnauthorized(err) {
		t.Fatalf("pull with an expired token: got %v, want 401", err)
	}
}

// The ACR refresh token the plugin obtained (IMDS, challenge, exchange)
// pulls through the registry's token endpoint, which accepts exactly the
// refresh tokens the Azure emulator issued for that registry.
func TestACRPluginCredentialPulls(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	az := fakecloud.NewAzure()
	az.Install(p)
	const host = "myreg.azurecr.io"
	reg, err := registrytest.New(registrytest.Options{
		Service: host,
		Refresh: func(tok string) bool {
			g, ok := az.ValidRefreshToken(tok)
			return ok && g.Registry == host
		},
		Other: az.Registry(), // the exchange endpoint
	})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	p.Route(host, reg)

	cfg := filepath.Join(t.TempDir(), "azure.json")
	if err := os.WriteFile(cfg, []byte(`{"tenantId":"t1","useManagedIdentityExtension":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(exectest.CleanEnv(t), p.Env()...)
	user, pass := credentialFor(t, "acr-credential-provider", []string{cfg}, env, host+"/team/app", host)
	if user != registrytest.ACRUser {
		t.Fatalf("ACR user %q, want %q", user, registrytest.ACRUser)
	}
	pushAndPull(t, p, reg, host+"/team/app:v1", user, pass)
}

// The generic roles, and a mirror on each: the static file's and the
// credential helper's credential pull from a registry that accepts exactly
// that user and password, and the registry also served under a mirror
// source name (as a containerd hosts.toml mirror routes it) is pulled under
// the source's name with the credential answered for the target.
func TestGenericRolesAndMirrorPull(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	p, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const (
		host   = "registry.internal.example"
		mirror = "mirror.example.com"
		user   = "robot"
		secret = "s3cret-e2e-2f8a"
	)
	reg, err := registrytest.New(registrytest.Options{Basic: func(u, pw string) bool { return u == user && pw == secret }})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	p.Route(host, reg)
	p.Route(mirror, reg)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "static.yaml")
	if err := os.WriteFile(cfg, []byte("registries:\n- registry: \"*.internal.example\"\n  username: "+user+"\n  password: "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "docker-credential-e2e")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\nread -r server\n[ \"$server\" = "+host+" ] || { echo credentials not found; exit 1; }\necho '{\"ServerURL\":\""+host+"\",\"Username\":\""+user+"\",\"Secret\":\""+secret+"\"}'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := append(exectest.CleanEnv(t), p.Env()...)
	mirrorFlag := "--registry-mirror=" + mirror + ":" + host

	u, pw := credentialFor(t, "static-credential-provider", []string{"--config", cfg}, env, host+"/team/app", "*.internal.example")
	pushAndPull(t, p, reg, host+"/team/app:v1", u, pw)
	u, pw = credentialFor(t, "credential-helper-provider", []string{"--helper-path", helper}, env, host+"/team/helper", host)
	pushAndPull(t, p, reg, host+"/team/helper:v1", u, pw)
	u, pw = credentialFor(t, "static-credential-provider", []string{"--config", cfg, mirrorFlag}, env, mirror+"/team/mirrored", mirror)
	pushAndPull(t, p, reg, mirror+"/team/mirrored:v1", u, pw)
	u, pw = credentialFor(t, "credential-helper-provider", []string{"--helper-path", helper, mirrorFlag}, env, mirror+"/team/mirrored2", mirror)
	pushAndPull(t, p, reg, mirror+"/team/mirrored2:v1", u, pw)
}
