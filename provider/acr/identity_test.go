package acr

import (
	"strings"
	"testing"
)

func TestIdentitySelection(t *testing.T) {
	sa := saRequest{token: "a.eyJpc3MiOiJpIiwic3ViIjoicyJ9.c", annotations: map[string]string{AnnotationClientID: "pc", AnnotationTenantID: "pt"}}
	tests := []struct {
		name string
		cfg  Config
		env  map[string]string
		sa   saRequest
		want string // fingerprint prefix
		err  string
	}{
		{name: "service account wins over everything", cfg: Config{UseManagedIdentityExtension: true, AADClientSecret: "s", AADClientID: "c", TenantID: "t"}, sa: sa, want: "https://login.microsoftonline.com/:pt/pc:sa:"},
		{name: "workload identity before managed identity", cfg: Config{UseManagedIdentityExtension: true, UseFederatedWorkloadIdentityExtension: true, AADFederatedTokenFile: "/f", AADClientID: "c", TenantID: "t"}, want: "wi:https://login.microsoftonline.com/:t/c"},
		{name: "managed identity before a secret", cfg: Config{UseManagedIdentityExtension: true, AADClientSecret: "s", AADClientID: "c", TenantID: "t"}, want: "mi:system"},
		{name: "user-assigned client ID", cfg: Config{UseManagedIdentityExtension: true, UserAssignedIdentityID: "ABC"}, want: "mi:client=abc"},
		{name: "user-assigned resource ID", cfg: Config{UseManagedIdentityExtension: true, UserAssignedIdentityID: "/Subscriptions/x/y"}, want: "mi:resource=/subscriptions/x/y"},
		{name: "azure.json secret before environment workload identity", cfg: Config{AADClientSecret: "s", AADClientID: "c", TenantID: "t"}, env: map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/f"}, want: "sp:"},
		{name: "environment workload identity", env: map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/f", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}, want: "wi:"},
		{name: "environment secret", env: map[string]string{"AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}, want: "sp:https://login.microsoftonline.com/:t/c"},
		{name: "authority override", env: map[string]string{"AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_AUTHORITY_HOST": "https://login.example/"}, want: "sp:https://login.example/:t/c"},
		{name: "workload identity flag without a file", cfg: Config{UseFederatedWorkloadIdentityExtension: true, AADClientID: "c", TenantID: "t"}, err: "no token file"},
		{name: "secret without tenant", cfg: Config{AADClientSecret: "s", AADClientID: "c"}, err: "no tenant ID"},
		{name: "secret without client", cfg: Config{AADClientSecret: "s", TenantID: "t"}, err: "no client ID"},
		{name: "service account without tenant annotation", sa: saRequest{token: "x", annotations: map[string]string{AnnotationClientID: "c"}}, err: AnnotationTenantID},
		{name: "service-account token without annotations uses the node identity", cfg: Config{UseManagedIdentityExtension: true}, sa: saRequest{token: "x"}, want: "mi:system"},
		{name: "nothing", err: "no Azure identity configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := chooseIdentity(tt.cfg, tt.sa, identitySettings{cloud: clouds[0], getenv: func(k string) string { return tt.env[k] }})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !strings.HasPrefix(id.fingerprint, tt.want) {
				t.Fatalf("fingerprint %q, err %v; want prefix %q", id.fingerprint, err, tt.want)
			}
			if strings.Contains(id.fingerprint+id.kind, "s3cret") {
				t.Fatal("secret in fingerprint or kind")
			}
		})
	}
}

func TestServiceAccountsNeverShareAFingerprint(t *testing.T) {
	ann := map[string]string{AnnotationClientID: "c", AnnotationTenantID: "t"}
	fp := func(tok string, ann map[string]string) string {
		id, err := chooseIdentity(Config{}, saRequest{token: tok, annotations: ann}, identitySettings{cloud: clouds[0], getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		return id.fingerprint
	}
	// The token is not verified, so its claims prove nothing: a forged
	// token with the same payload (another signature) is another entry, as
	// is every other token, and the same token for another client.
	genuine := "h.eyJpc3MiOiJpIiwic3ViIjoiYSIsImp0aSI6IjEifQ.sig"
	forged := "h.eyJpc3MiOiJpIiwic3ViIjoiYSIsImp0aSI6IjEifQ.forged"
	other := "h.eyJpc3MiOiJpIiwic3ViIjoiYiJ9.s"
	seen := map[string]string{}
	for name, f := range map[string]string{
		"genuine":           fp(genuine, ann),
		"forged":            fp(forged, ann),
		"other account":     fp(other, ann),
		"opaque":            fp("opaque-1", ann),
		"genuine, client 2": fp(genuine, map[string]string{AnnotationClientID: "c2", AnnotationTenantID: "t"}),
		"genuine, tenant 2": fp(genuine, map[string]string{AnnotationClientID: "c", AnnotationTenantID: "t2"}),
	} {
		if prev, dup := seen[f]; dup {
			t.Errorf("%s and %s share fingerprint %s", name, prev, f)
		}
		seen[f] = name
		if strings.Contains(f, "eyJ") {
			t.Errorf("%s: fingerprint %s holds the token", name, f)
		}
	}
	if fp(genuine, ann) != fp(genuine, ann) {
		t.Error("the same token has two fingerprints")
	}
}

func TestPassthroughWithEnvironmentSecret(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"environment": {"AZURE_CLIENT_SECRET": "s3cret-value", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"},
		"no tenant":   {"AZURE_CLIENT_SECRET": "s3cret-value", "AZURE_CLIENT_ID": "c"},
	} {
		id, err := chooseIdentity(Config{}, saRequest{}, identitySettings{cloud: clouds[0], getenv: func(k string) string { return env[k] }, passthrough: true})
		if err != nil || id.passthrough == nil || *id.passthrough != [2]string{"c", "s3cret-value"} || id.build != nil {
			t.Errorf("%s: identity %+v, %v; want passthrough of AZURE_CLIENT_ID/AZURE_CLIENT_SECRET", name, id, err)
		}
	}
	_, err := chooseIdentity(Config{}, saRequest{}, identitySettings{cloud: clouds[0], getenv: func(k string) string {
		return map[string]string{"AZURE_CLIENT_SECRET": "s"}[k]
	}, passthrough: true})
	if err == nil || !strings.Contains(err.Error(), "no client ID") {
		t.Errorf("passthrough without a client ID: %v", err)
	}
}
