package ecr_test

import (
	"path/filepath"
	"testing"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/provider/ecr"
)

// Every AWS endpoint an exec reads from, answering an endless body: each
// exec still ends with its one line, within the fetch bound and bounded
// memory (the bound sits under the SDK's own clients).
func TestEndlessBodies(t *testing.T) {
	c := newCloud(t)
	a := c.aws
	a.TrustRole(podRole)
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), providertest.Token())
	base := c.world.Env
	tests := []struct {
		name string
		op   string
		env  []string
		sa   bool
	}{
		{"ECR token", fakecloud.OpECRToken, a.StaticEnv(), false},
		{"instance metadata token", fakecloud.OpIMDSToken, []string{"AWS_EC2_METADATA_DISABLED=false"}, false},
		{"instance metadata credentials", fakecloud.OpIMDSCredentials, []string{"AWS_EC2_METADATA_DISABLED=false"}, false},
		{"container credentials", fakecloud.OpContainerCreds, a.ContainerEnv(c.url), false},
		{"web identity (node)", fakecloud.OpSTSWebIdentity, []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + podRole}, false},
		{"web identity (pod)", fakecloud.OpSTSWebIdentity, a.StaticEnv(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.Inject(tt.op, fakecloud.Fault{Endless: true})
			t.Cleanup(a.Clear)
			req := providertest.NewRequest(privateImage)
			if tt.sa {
				req.SAToken, req.Annotations = providertest.Token(), map[string]string{roleARNAnn: podRole}
			}
			providertest.Bounded(t, ecr.Role.Name, nil, append(append([]string{}, base...), tt.env...), req)
		})
	}
}
