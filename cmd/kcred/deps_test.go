package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNodeBinaryStaysLean guards what the node binary links: Go runs every
// linked package's init on every exec, and the kubelet execs kcred on every
// credential cache miss. Emulators, test registries and clients, the real
// kubelet, and Kubernetes' own packages stay out.
func TestNodeBinaryStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kcred/kcred/cmd/kcred").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/kcred/kcred/internal/fakecloud",
		"github.com/kcred/kcred/internal/registrytest",
		"github.com/kcred/kcred/internal/exectest",
		"github.com/kcred/kcred/internal/demo",
		"github.com/kcred/kcred/internal/kubeletcorpus",
		"github.com/kcred/kcred/match/matchtest",
		"github.com/distribution/distribution",
		// Its package-level regexps cost 4,400 allocations per exec;
		// match.SplitImage parses the same grammar (issue 16).
		"github.com/distribution/reference",
		"github.com/opencontainers/go-digest",
		// Schema-based serde builds whole-API schemas at init: go.mod pins
		// ECR and ECR Public before it (test/sdkpin).
		"github.com/aws/aws-sdk-go-v2/service/ecr/schemas",
		"github.com/aws/aws-sdk-go-v2/service/ecrpublic/schemas",
		"github.com/google/go-containerregistry",
		// No k8s.io package at all: apimachinery's initialisers and those of
		// what it links (json-iterator, reflect2, cbor, inf, klog, ...) cost
		// 2,300 allocations per exec; internal/kubeapi decodes the kubelet's
		// types with sigs.k8s.io/json and sigs.k8s.io/yaml, as apimachinery
		// does (issue 16).
		"k8s.io/",
		"github.com/prometheus/",
		"google.golang.org/grpc",
		"net/http/httptest",
		"testing",
	}
	// oci-go-sdk is one module with every OCI service in it: only the
	// signing, configuration and instance-principal packages are linked.
	ociAllowed := map[string]bool{
		"github.com/oracle/oci-go-sdk/v65/common":       true,
		"github.com/oracle/oci-go-sdk/v65/common/auth":  true,
		"github.com/oracle/oci-go-sdk/v65/common/utils": true,
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/oracle/oci-go-sdk/") && !ociAllowed[pkg] {
			t.Errorf("the node binary links %s (only the OCI SDK's common packages belong in it)", pkg)
		}
		for _, f := range forbidden {
			if pkg == strings.TrimSuffix(f, "/") || strings.HasPrefix(pkg, f) {
				t.Errorf("the node binary links %s", pkg)
			}
		}
	}
}
