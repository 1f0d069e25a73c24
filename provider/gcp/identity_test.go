package gcp

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kcred/kcred/plugin"
)

func TestChooseIdentity(t *testing.T) {
	dir := t.TempDir()
	adc := filepath.Join(dir, "adc.json")
	external := `{"type":"external_account","audience":"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",` +
		`"service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/puller@p.iam.gserviceaccount.com:generateAccessToken"}`
	if err := os.WriteFile(adc, []byte(external), 0o600); err != nil {
		t.Fatal(err)
	}
	gcloud := filepath.Join(dir, "gcloud")
	if err := os.MkdirAll(gcloud, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gcloud, "application_default_credentials.json"), []byte(`{"type":"authorized_user"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		pool = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s"
		gsa  = "puller@p.iam.gserviceaccount.com"
	)
	gke := Options{IdentityProvider: "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c", ProjectID: "p"}
	wif := Options{WorkloadIdentityProvider: pool}
	enable := map[string]string{AnnotationEnableWI: "true"}
	named := map[string]string{AnnotationServiceAccount: gsa}

	tests := []struct {
		name    string
		opts    Options
		env     map[string]string
		token   string
		ann     map[string]string
		want    identity
		wantErr string
	}{
		{name: "metadata default", want: identity{source: fromMetadata, account: "default"}},
		{name: "named account", opts: Options{ServiceAccount: gsa}, env: map[string]string{envCredentials: adc},
			want: identity{source: fromMetadata, account: gsa}},
		{name: "GOOGLE_APPLICATION_CREDENTIALS", env: map[string]string{envCredentials: adc, envCloudSDK: gcloud},
			want: identity{source: fromADCFile, file: adc, kind: "external_account", audience: "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x", impersonate: gsa}},
		{name: "gcloud ADC file", env: map[string]string{envCloudSDK: gcloud},
			want: identity{source: fromADCFile, file: filepath.Join(gcloud, "application_default_credentials.json"), kind: "authorized_user"}},
		{name: "gcloud ADC under HOME absent", env: map[string]string{"HOME": dir}, want: identity{source: fromMetadata, account: "default"}},
		{name: "missing credentials file", env: map[string]string{envCredentials: filepath.Join(dir, "nope.json")}, wantErr: "read GOOGLE_APPLICATION_CREDENTIALS"},
		{name: "credentials not JSON", env: map[string]string{envCredentials: notJSON}, wantErr: "not a Google credentials JSON file"},
		{name: "dockercfg", opts: Options{AuthFlow: FlowDockercfg}, env: map[string]string{envCredentials: adc}, want: identity{source: fromDockercfg}},
		{name: "dockercfg-url", opts: Options{AuthFlow: FlowDockercfgURL}, want: identity{source: fromDockercfgURL}},
		{name: "GKE annotated", opts: gke, token: "tok", ann: enable,
			want: identity{source: fromGKE, audience: "identitynamespace:p.svc.id.goog:" + gke.IdentityProvider, podToken: "tok"}},
		{name: "GKE not annotated: node", opts: gke, token: "tok", ann: named, want: identity{source: fromMetadata, account: "default"}},
		{name: "GKE annotated false: node", opts: gke, token: "tok", ann: map[string]string{AnnotationEnableWI: "false"}, want: identity{source: fromMetadata, account: "default"}},
		{name: "GKE annotated without flags", token: "tok", ann: enable, wantErr: "no --identity-provider"},
		{name: "GKE annotated without token", opts: gke, ann: enable, wantErr: "no service-account token"},
		{name: "federation", opts: wif, token: "tok", want: identity{source: fromFederation, audience: pool, podToken: "tok"}},
		{name: "federation impersonating", opts: wif, token: "tok", ann: named,
			want: identity{source: fromFederation, audience: pool, impersonate: gsa, podToken: "tok"}},
		{name: "federation bad email", opts: wif, token: "tok", ann: map[string]string{AnnotationServiceAccount: "x/../y"}, wantErr: "not a service-account email"},
		{name: "federation without token: node", opts: wif, want: identity{source: fromMetadata, account: "default"}},
		{name: "named GSA without federation", token: "tok", ann: named, wantErr: "no --workload-identity-provider"},
		{name: "named GSA, federation, no token", opts: wif, ann: named, wantErr: "no service-account token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Getenv = func(k string) string { return tt.env[k] }
			got, err := o.choose(plugin.Request{Registry: "gcr.io", ServiceAccountToken: tt.token, ServiceAccountAnnotations: tt.ann})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.credentials = nil
			got.endpoints = endpoints{} // see TestFailedStep
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestValidateOptions(t *testing.T) {
	tests := []struct {
		opts    Options
		wantErr string
	}{
		{Options{}, ""},
		{Options{ServiceAccount: "a@b.iam.gserviceaccount.com"}, ""},
		{Options{ServiceAccount: "default"}, "not a service-account email"},
		{Options{ServiceAccount: "a@b.c/token?x"}, "not a service-account email"},
		{Options{IdentityProvider: "https://x"}, "needs --project-id"},
		{Options{ProjectID: "p"}, "needs --identity-provider"},
		{Options{IdentityProvider: "https://x", ProjectID: "p"}, ""},
	}
	for _, tt := range tests {
		err := tt.opts.validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%+v: %v, want %q", tt.opts, err, tt.wantErr)
		}
	}
}

func TestAuthFlowFlag(t *testing.T) {
	for _, v := range []string{"gcr", "dockercfg", "dockercfg-url"} {
		var flow string
		if err := (authFlowFlag{&flow}).Set(v); err != nil || flow != v {
			t.Errorf("Set(%q): %v, flow %q", v, err, flow)
		}
	}
	// Through the flag package, which words the error around Set's: the
	// flag, the value and the allowed values, each said once.
	for _, v := range []string{"", "GCR", "Dockercfg", "dockercfg_url", "metadata"} {
		var flow string
		fs := flag.NewFlagSet("auth-provider-gcp", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Var(authFlowFlag{&flow}, "authFlow", "")
		err := fs.Parse([]string{"--authFlow=" + v})
		want := `invalid value "` + v + `" for flag -authFlow: want gcr, dockercfg or dockercfg-url`
		if err == nil || err.Error() != want {
			t.Errorf("--authFlow=%s: %v, want %s", v, err, want)
		}
	}
}
