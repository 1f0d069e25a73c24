package ecr_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/kubelet"
	"github.com/kcred/kcred/provider/ecr"
)

// docConfigs returns the kubelet CredentialProviderConfig examples of
// docs/providers/ecr.md, in order.
func docConfigs(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "providers", "ecr.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], "kind: CredentialProviderConfig") {
			out = append(out, m[1])
		}
	}
	if len(out) != 2 {
		t.Fatalf("found %d kubelet configs in the doc, want 2 (node, service account)", len(out))
	}
	return out
}

// TestDocConfigs runs the documented kubelet configurations, unchanged,
// through the kubelet simulator (start-up checks, matchImages, service
// account handling, exec) against the emulator.
func TestDocConfigs(t *testing.T) {
	c := newCloud(t)
	const teamRole = "arn:aws:iam::123456789012:role/team-a-puller"
	c.aws.TrustRole(teamRole)
	configs := docConfigs(t)
	// The simulator execs the binary from its bin dir, as the kubelet does.
	binDir := filepath.Dir(exectest.Link(t, ecr.Role.Name))
	env := append(append(exectest.CleanEnv(t), c.world.Env...), c.aws.StaticEnv()...)

	start := func(t *testing.T, yaml string) *kubelet.Simulator {
		t.Helper()
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := kubelet.Startup(path, binDir)
		if err != nil {
			t.Fatalf("kubelet start-up with the documented config: %v", err)
		}
		sim := kubelet.NewSimulator(cfg, binDir)
		sim.Environ = func() []string { return env }
		return sim
	}

	t.Run("node identity", func(t *testing.T) {
		sim := start(t, configs[0])
		for _, image := range []string{
			privateImage + ":v1",
			"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app:v1",
			"123456789012.dkr-ecr.us-west-2.on.aws/app:v1",
			"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1",
			"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu/app:v1",
			"123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov/app:v1",
			"public.ecr.aws/lambda/python:3.12",
			"ecr-public.aws.com/lambda/python:3.12",
		} {
			rep := sim.Lookup(context.Background(), image)
			if len(rep.Credentials) != 1 || !c.aws.ValidCredential(rep.Credentials[0].Username, rep.Credentials[0].Password) {
				t.Errorf("%s: %d credentials (providers: %+v)", image, len(rep.Credentials), rep.Providers)
			}
		}
		if rep := sim.Lookup(context.Background(), "nginx"); len(rep.Credentials) != 0 || rep.Providers[0].Matched {
			t.Errorf("docker.io image matched the ECR provider: %+v", rep.Providers[0])
		}
	})

	t.Run("service account", func(t *testing.T) {
		c.aws.Reset()
		sim := start(t, configs[1])
		sim.Pod = kubelet.Pod{Namespace: "team-a", Name: "app-1", UID: "uid-1", ServiceAccount: &kubelet.ServiceAccount{
			Name: "app", UID: "sa-uid", Token: "pod-jwt-for-sts",
			Annotations: map[string]string{"eks.amazonaws.com/ecr-role-arn": teamRole},
		}}
		rep := sim.Lookup(context.Background(), privateImage+":v1")
		if len(rep.Credentials) != 1 || !c.aws.ValidCredential(rep.Credentials[0].Username, rep.Credentials[0].Password) {
			t.Fatalf("%d credentials (providers: %+v)", len(rep.Credentials), rep.Providers)
		}
		sts := c.aws.Calls(fakecloud.OpSTSWebIdentity)
		if len(sts) != 1 || sts[0].Form["RoleArn"] != teamRole || sts[0].Form["WebIdentityToken"] != "pod-jwt-for-sts" {
			t.Errorf("STS calls = %+v, want one for %s with the pod's token", sts, teamRole)
		}
	})
}
