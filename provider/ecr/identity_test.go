package ecr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNodeIdentity(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte("[default]\nregion = eu-west-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}
	getenv := func(k string) string { return env[k] }

	base := fp(nodeIdentity(getenv))
	if again := fp(nodeIdentity(getenv)); again != base {
		t.Fatalf("fingerprint not stable: %s then %s", base, again)
	}
	env["AWS_PROFILE"] = "other"
	if fp(nodeIdentity(getenv)) == base {
		t.Error("changing AWS_PROFILE kept the fingerprint")
	}
	delete(env, "AWS_PROFILE")
	if err := os.WriteFile(cfgFile, []byte("[default]\nrole_arn = arn:aws:iam::123456789012:role/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fp(nodeIdentity(getenv)) == base {
		t.Error("changing the shared config file kept the fingerprint")
	}
	env["AWS_SECRET_ACCESS_KEY"] = "topsecret"
	if fp := fp(nodeIdentity(getenv)); strings.Contains(fp, "topsecret") {
		t.Errorf("fingerprint %q contains a secret", fp)
	}
}

func TestServiceAccountIdentity(t *testing.T) {
	const roleA, roleB = "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"
	a1 := serviceAccountIdentity(roleA, "token-1")
	if strings.Contains(a1.fingerprint, "token-1") {
		t.Fatalf("fingerprint %q contains the token", a1.fingerprint)
	}
	for _, other := range []identity{serviceAccountIdentity(roleA, "token-2"), serviceAccountIdentity(roleB, "token-1")} {
		if other.fingerprint == a1.fingerprint {
			t.Errorf("%s and %s share a fingerprint", other.roleARN, a1.roleARN)
		}
	}
}

func TestRoleARNFor(t *testing.T) {
	const key = DefaultRoleAnnotation
	tests := []struct {
		ann      map[string]string
		fallback string
		want     string
	}{
		{map[string]string{key: "arn:aws:iam::1:role/ann"}, "arn:aws:iam::1:role/env", "arn:aws:iam::1:role/ann"},
		{map[string]string{key: "  "}, "arn:aws:iam::1:role/env", "arn:aws:iam::1:role/env"},
		{map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/pod"}, "", ""},
		{nil, "", ""},
	}
	for _, tt := range tests {
		if got := roleARNFor(tt.ann, key, tt.fallback); got != tt.want {
			t.Errorf("roleARNFor(%v, %q) = %q, want %q", tt.ann, tt.fallback, got, tt.want)
		}
	}
}

func TestCheckRoleARN(t *testing.T) {
	for arn, ok := range map[string]bool{
		"": true, "arn:aws:iam::123456789012:role/puller": true, "arn:aws-cn:iam::123456789012:role/a/b": true,
		"puller": false, "arn:aws:iam::123456789012:user/bob": false,
	} {
		if err := checkRoleARN(arn, "test"); (err == nil) != ok {
			t.Errorf("checkRoleARN(%q) = %v, want ok=%t", arn, err, ok)
		}
	}
}

// fp is the fingerprint of a node identity that must load.
func fp(id identity, err error) string {
	if err != nil {
		panic(err)
	}
	return id.fingerprint
}
