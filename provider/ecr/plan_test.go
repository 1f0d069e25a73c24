package ecr

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/plugin"
)

// Plan runs before the cache lookup, so it must make no network call, also
// for a host that is not ECR's (whose region only the configuration names)
// when AWS_DEFAULTS_MODE=auto would otherwise ask instance metadata.
func TestPlanMakesNoNetworkCall(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	a := fakecloud.NewAWS()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": home + "/absent", "AWS_SHARED_CREDENTIALS_FILE": home + "/absent",
		"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL,
		"AWS_DEFAULTS_MODE": "auto", "AWS_REGION": "eu-west-3",
	} {
		t.Setenv(k, v)
	}
	c := &source{log: slog.New(slog.DiscardHandler), annotation: DefaultRoleAnnotation, getenv: os.Getenv}
	for _, registry := range []string{"registry.example.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"} {
		plan, err := c.Plan(plugin.Request{APIVersion: plugin.APIVersionV1, Image: registry + "/app", Registry: registry})
		if err != nil || len(plan.Keys) == 0 {
			t.Fatalf("%s: plan %+v, %v", registry, plan, err)
		}
	}
	if n := a.Count(""); n != 0 {
		t.Errorf("Plan made %d calls: %v", n, a.Calls())
	}
}
