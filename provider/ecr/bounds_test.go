package ecr_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/fakecloud"
	"github.com/kcred/kcred/internal/providertest"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/ecr"
)

// boundsCase is one ECR flow with one of its operations broken: the calls
// before it work, so that the broken one is reached.
type boundsCase struct {
	name, op string
	env      []string
	// image is privateImage when empty.
	image string
	// sa sends a pod's token and role annotation.
	sa bool
	// want is what the error line must name: the step that failed.
	want string
	// flood is what the line says of an endless body, when not
	// httpbound's error (see providertest.Flooded).
	flood string
}

// boundsCases wires c for every flow and returns, for each operation an
// exec reads a body from, the flow that reaches it. (No flow reads the
// instance identity document: the region comes from the registry host.)
func boundsCases(t *testing.T, c *cloud) []boundsCase {
	a := c.aws
	a.TrustRole(podRole)
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), providertest.Token())
	imds := []string{"AWS_EC2_METADATA_DISABLED=false"}
	return []boundsCase{
		{name: "ECR token", op: fakecloud.OpECRToken, env: a.StaticEnv(), want: "ECR"},
		{name: "ECR Public token", op: fakecloud.OpECRPublicToken, env: a.StaticEnv(), image: "public.ecr.aws/lambda/python", want: "ECR Public"},
		// The SDK goes on without a session token (IMDSv1), which the
		// emulator refuses as an IMDSv2-only instance does.
		{name: "instance metadata token", op: fakecloud.OpIMDSToken, env: imds, want: "EC2 IMDS", flood: "StatusCode: 401, request to EC2 IMDS failed"},
		{name: "instance metadata role", op: fakecloud.OpIMDSRole, env: imds, want: "EC2 IMDS"},
		{name: "instance metadata credentials", op: fakecloud.OpIMDSCredentials, env: imds, want: "EC2 IMDS"},
		{name: "ECR token after instance metadata", op: fakecloud.OpECRToken, env: imds, want: "ECR"},
		{name: "container credentials", op: fakecloud.OpContainerCreds, env: a.ContainerEnv(c.url), want: "get node credentials"},
		{name: "web identity (node)", op: fakecloud.OpSTSWebIdentity, env: []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + podRole}, want: "AssumeRoleWithWebIdentity"},
		{name: "web identity (pod)", op: fakecloud.OpSTSWebIdentity, env: a.StaticEnv(), sa: true, want: "assume role " + podRole},
		{name: "ECR token after web identity (pod)", op: fakecloud.OpECRToken, env: a.StaticEnv(), sa: true, want: "ECR"},
	}
}

// run runs tt with fault on its one operation, and checks the exec against
// bound (see providertest.BoundedWithin).
func (tt boundsCase) run(t *testing.T, c *cloud, fault fakecloud.Fault, bound time.Duration) string {
	t.Helper()
	c.aws.Inject(tt.op, fault)
	t.Cleanup(c.aws.Clear)
	image := tt.image
	if image == "" {
		image = privateImage
	}
	req := providertest.NewRequest(image)
	if tt.sa {
		req.SAToken, req.Annotations = providertest.Token(), map[string]string{roleARNAnn: podRole}
	}
	line := providertest.BoundedWithin(t, bound, ecr.Role.Name, nil, append(append([]string{}, c.world.Env...), tt.env...), req)
	if !strings.Contains(line, tt.want) {
		t.Errorf("error line %q does not name what failed: want %q", line, tt.want)
	}
	return line
}

// Every AWS endpoint an exec reads from, each flooded on its own with an
// endless body, the calls before it working: each exec still ends with its
// one line, within the fetch bound and bounded memory (the bound sits
// under the SDK's own clients).
func TestEndlessBodies(t *testing.T) {
	c := newCloud(t)
	for _, tt := range boundsCases(t, c) {
		t.Run(tt.name, func(t *testing.T) {
			providertest.Flooded(t, tt.run(t, c, fakecloud.Fault{Endless: true}, plugin.FetchTimeout), tt.flood)
		})
	}
}

// TestTrickledBody: an ECR token answer that trickles in, a byte at a time
// and far under the size bound, is ended by the fetch bound.
func TestTrickledBody(t *testing.T) {
	c := newCloud(t)
	for _, tt := range boundsCases(t, c) {
		if tt.name == "ECR token" {
			// The hint says the answer did not come in time, not that it
			// is not AWS's.
			tt.want = "no complete answer from the ECR endpoint"
			tt.run(t, c, fakecloud.Fault{Trickle: true}, plugin.FetchTimeout+providertest.ExecSlack)
		}
	}
}
