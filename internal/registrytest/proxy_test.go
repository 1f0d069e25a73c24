package registrytest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/fakecloud"
)

// Under a cloud host name, over TLS through the fakecloud proxy, push and
// pull work with the accepted credential and fail with another, in both
// modes: the token realm follows the host name.
func TestCloudHostThroughProxy(t *testing.T) {
	exectest.RequireIsolatedNetwork(t)
	proxy, err := fakecloud.NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	tr := remote.WithTransport(proxy.Client().Transport)

	tests := []struct {
		name       string
		host       string
		opts       Options
		user, good string
	}{
		{"ECR basic", "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
			Options{Basic: func(u, p string) bool { return u == "AWS" && p == "ecr-token" }}, "AWS", "ecr-token"},
		{"ACR token", "myreg.azurecr.io",
			Options{Service: "myreg.azurecr.io", Refresh: func(r string) bool { return r == "acr-refresh" }}, ACRUser, "acr-refresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = reg.Close() })
			proxy.Route(tt.host, reg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ref := tt.host + "/team/app:v1"
			admin, adminPass := reg.Admin()
			if _, err := Push(ctx, ref, admin, adminPass, tr); err != nil {
				t.Fatal(err)
			}
			checkPull(t, Pull(ctx, ref, tt.user, tt.good, tr), true)
			checkPull(t, Pull(ctx, ref, tt.user, tt.good+"-wrong", tr), false)
			checkPull(t, Pull(ctx, ref, "", "", tr), false)
		})
	}
}
