// Package sdkpin checks the reason the product module pins
// github.com/aws/aws-sdk-go-v2/service/ecr and service/ecrpublic to versions
// before the SDK's schema-based serde (see the comment in ../../go.mod):
// the releases since build whole-API schemas in package initialisers,
// which Go runs on every exec of every kcred role (issue 16). This module
// requires the newest releases known; when their schemas stop costing at
// init, the test fails and says to unpin. Bump its requirements
// (go get ...@latest) when checking a newer SDK.
package sdkpin

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	_ "github.com/aws/aws-sdk-go-v2/service/ecr"
	_ "github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// minReasonAllocs is the least the schemas' initialisers must allocate
// for the pin to be worth keeping: the pinned versions allocate none.
const minReasonAllocs = 500

// TestPinReasonStillHolds re-runs this test binary with
// GODEBUG=inittrace=1 and reads what the newest ECR and ECR Public
// releases' schemas packages allocate at init.
func TestPinReasonStillHolds(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", os.Args[0], err, out)
	}
	for _, pkg := range []string{"github.com/aws/aws-sdk-go-v2/service/ecr/schemas", "github.com/aws/aws-sdk-go-v2/service/ecrpublic/schemas"} {
		allocs := -1
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 11 && f[0] == "init" && f[1] == pkg && f[10] == "allocs" {
				allocs, _ = strconv.Atoi(f[9])
			}
		}
		t.Logf("%s: %d allocations at init", pkg, allocs)
		if allocs < minReasonAllocs {
			t.Errorf("%s allocates %d times at init (under %d, or the package is gone): the reason to pin its service in ../../go.mod is gone; unpin it and lower TestInitBudget", pkg, allocs, minReasonAllocs)
		}
	}
}
