package acr

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
	"sigs.k8s.io/yaml"
)

// Service-account annotations of KEP-4412 mode, as upstream names them.
const (
	AnnotationClientID = "kubernetes.azure.com/acr-client-id"
	AnnotationTenantID = "kubernetes.azure.com/acr-tenant-id"
)

// Config is the part of azure.json (cloud-provider-azure's cloud config) this
// provider reads. Keys are matched case-insensitively; other keys are
// ignored, so the node's existing file works as-is.
type Config struct {
	Cloud                                 string `json:"cloud"`
	TenantID                              string `json:"tenantId"`
	AADClientID                           string `json:"aadClientId"`
	AADClientSecret                       string `json:"aadClientSecret"`
	AADClientCertPath                     string `json:"aadClientCertPath"`
	AADClientCertPassword                 string `json:"aadClientCertPassword"`
	UseManagedIdentityExtension           bool   `json:"useManagedIdentityExtension"`
	UserAssignedIdentityID                string `json:"userAssignedIdentityID"`
	AADFederatedTokenFile                 string `json:"aadFederatedTokenFile"`
	UseFederatedWorkloadIdentityExtension bool   `json:"useFederatedWorkloadIdentityExtension"`
}

// LoadConfig reads an azure.json (JSON or YAML) file.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, &plugin.Error{What: "read Azure config", Err: err, Check: "check the path given as the first argument"}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return Config{}, &plugin.Error{What: "read Azure config " + path, Err: err, Check: "check that the path is a readable file"}
	}
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		// The parser quotes the offending text, which may be a secret.
		return Config{}, &plugin.Error{What: "parse Azure config " + path, Err: errors.New("not valid JSON or YAML, or a field has the wrong type"), Check: "check the file's syntax"}
	}
	return c, nil
}

// identity is a chosen Azure identity, described without any I/O: the
// credential is built (certificate files parsed) only on a cache miss.
type identity struct {
	// build returns the credential that gets Entra tokens; nil in
	// service-principal passthrough mode.
	build func() (azcore.TokenCredential, error)
	// kind is a human description for logs and errors (no secrets).
	kind string
	// fingerprint identifies the identity in the token cache key.
	fingerprint string
	// tenant is sent with the exchange.
	tenant string
	// serviceAccount is set when the pod's token is the credential.
	serviceAccount bool
	// passthrough holds upstream-style client id/secret credentials.
	passthrough *[2]string
}

// identitySettings is what chooses and builds an identity besides azure.json.
type identitySettings struct {
	cloud       Cloud
	getenv      func(string) string
	transport   *http.Client
	passthrough bool
}

// clientOptions points every SDK client at the cloud's authority (or at
// AZURE_AUTHORITY_HOST, the standard override, which azidentity ignores once
// a cloud is set) with bounded retries.
func (s identitySettings) clientOptions() azcore.ClientOptions {
	cc := s.cloud.Config
	if h := s.getenv("AZURE_AUTHORITY_HOST"); h != "" {
		cc.ActiveDirectoryAuthorityHost = h
	}
	return azcore.ClientOptions{
		Cloud:     cc,
		Transport: s.transport,
		Retry: policy.RetryOptions{
			MaxRetries:    3,
			RetryDelay:    time.Second,
			MaxRetryDelay: 4 * time.Second,
			TryTimeout:    20 * time.Second,
		},
		Telemetry: policy.TelemetryOptions{ApplicationID: "kcred-acr"},
	}
}

// chooseIdentity chooses the identity for req, without any I/O, in this order: the pod's
// service account (KEP-4412) when the kubelet sent a token and the service
// account carries the client and tenant annotations; then azure.json:
// workload identity, managed identity, certificate, secret; then the
// standard AZURE_* environment: workload identity, certificate, secret.
func chooseIdentity(cfg Config, req saRequest, s identitySettings) (identity, error) {
	opts := s.clientOptions()
	authority := opts.Cloud.ActiveDirectoryAuthorityHost
	env := s.getenv
	orEnv := func(v, name string) string {
		if v != "" {
			return v
		}
		return env(name)
	}
	tenant, client := orEnv(cfg.TenantID, "AZURE_TENANT_ID"), orEnv(cfg.AADClientID, "AZURE_CLIENT_ID")

	// A token without either annotation is a pod whose service account is
	// not mapped to an Azure application: it pulls with the node's identity,
	// as before KEP-4412. One annotation alone is a mistake: saIdentity says so.
	if req.token != "" && (req.annotations[AnnotationClientID] != "" || req.annotations[AnnotationTenantID] != "") {
		return saIdentity(req, opts, authority)
	}
	switch {
	case cfg.UseFederatedWorkloadIdentityExtension || cfg.AADFederatedTokenFile != "":
		return workloadIdentity(orEnv(cfg.AADFederatedTokenFile, "AZURE_FEDERATED_TOKEN_FILE"), tenant, client, opts, authority)
	case cfg.UseManagedIdentityExtension:
		return managedIdentity(cfg.UserAssignedIdentityID, tenant, opts)
	case cfg.AADClientCertPath != "":
		return certIdentity(cfg.AADClientCertPath, cfg.AADClientCertPassword, tenant, client, opts, authority)
	case cfg.AADClientSecret != "":
		return secretIdentity(cfg.AADClientSecret, tenant, client, opts, authority, s.passthrough)
	case env("AZURE_FEDERATED_TOKEN_FILE") != "":
		return workloadIdentity(env("AZURE_FEDERATED_TOKEN_FILE"), tenant, client, opts, authority)
	case env("AZURE_CLIENT_CERTIFICATE_PATH") != "":
		return certIdentity(env("AZURE_CLIENT_CERTIFICATE_PATH"), env("AZURE_CLIENT_CERTIFICATE_PASSWORD"), tenant, client, opts, authority)
	case env("AZURE_CLIENT_SECRET") != "":
		return secretIdentity(env("AZURE_CLIENT_SECRET"), tenant, client, opts, authority, s.passthrough)
	}
	return identity{}, &plugin.Error{What: "no Azure identity configured", Check: "set useManagedIdentityExtension, aadClientId with aadClientSecret or aadClientCertPath, or aadFederatedTokenFile in the Azure config, or the AZURE_* environment"}
}

// saRequest is the service-account part of a request.
type saRequest struct {
	token       string
	annotations map[string]string
}

func requireIDs(what, tenant, client string) error {
	switch {
	case tenant == "":
		return &plugin.Error{What: what, Err: errors.New("no tenant ID"), Check: "set tenantId in the Azure config or AZURE_TENANT_ID"}
	case client == "":
		return &plugin.Error{What: what, Err: errors.New("no client ID"), Check: "set aadClientId in the Azure config or AZURE_CLIENT_ID"}
	}
	return nil
}

func saIdentity(req saRequest, opts azcore.ClientOptions, authority string) (identity, error) {
	tenant, client := req.annotations[AnnotationTenantID], req.annotations[AnnotationClientID]
	for key, v := range map[string]string{AnnotationClientID: client, AnnotationTenantID: tenant} {
		if strings.TrimSpace(v) == "" {
			return identity{}, &plugin.Error{What: "service-account mode", Err: errors.New("annotation " + key + " is missing or empty"), Check: "annotate the pod's service account and list the key in the kubelet's tokenAttributes annotation keys"}
		}
	}
	token := req.token
	build := func() (azcore.TokenCredential, error) {
		cred, err := azidentity.NewClientAssertionCredential(tenant, client, func(context.Context) (string, error) { return token, nil }, &azidentity.ClientAssertionCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: true,
		})
		if err != nil {
			return nil, &plugin.Error{What: "service-account mode", Err: err, Check: "check the service account's " + AnnotationClientID + " and " + AnnotationTenantID + " annotations"}
		}
		return cred, nil
	}
	return identity{
		build:          build,
		serviceAccount: true,
		kind:           "service account of client " + client,
		fingerprint:    authority + ":" + tenant + "/" + client + ":" + cloudtoken.ServiceAccountFingerprint(token),
		tenant:         tenant,
	}, nil
}

func workloadIdentity(file, tenant, client string, opts azcore.ClientOptions, authority string) (identity, error) {
	if file == "" {
		return identity{}, &plugin.Error{What: "workload identity", Err: errors.New("no token file"), Check: "set aadFederatedTokenFile in the Azure config or AZURE_FEDERATED_TOKEN_FILE"}
	}
	if err := requireIDs("workload identity", tenant, client); err != nil {
		return identity{}, err
	}
	build := func() (azcore.TokenCredential, error) {
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, ClientID: client, TenantID: tenant, TokenFilePath: file, DisableInstanceDiscovery: true,
		})
		if err != nil {
			return nil, &plugin.Error{What: "workload identity", Err: err, Check: "check aadFederatedTokenFile or AZURE_FEDERATED_TOKEN_FILE, aadClientId and tenantId"}
		}
		return cred, nil
	}
	return identity{build: build, kind: "workload identity of client " + client, fingerprint: "wi:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}

func managedIdentity(id, tenant string, opts azcore.ClientOptions) (identity, error) {
	o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
	kind, fp := "system-assigned managed identity", "mi:system"
	switch {
	case strings.Contains(strings.ToLower(id), "/subscriptions/"):
		o.ID = azidentity.ResourceID(id)
		kind, fp = "managed identity of resource "+id, "mi:resource="+strings.ToLower(id)
	case id != "":
		o.ID = azidentity.ClientID(id)
		kind, fp = "managed identity of client "+id, "mi:client="+strings.ToLower(id)
	}
	build := func() (azcore.TokenCredential, error) {
		cred, err := azidentity.NewManagedIdentityCredential(o)
		if err != nil {
			return nil, &plugin.Error{What: kind, Err: err, Check: "check userAssignedIdentityID in the Azure config"}
		}
		return cred, nil
	}
	return identity{build: build, kind: kind, fingerprint: fp, tenant: tenant}, nil
}

func certIdentity(path, password, tenant, client string, opts azcore.ClientOptions, authority string) (identity, error) {
	if err := requireIDs("service principal certificate", tenant, client); err != nil {
		return identity{}, err
	}
	build := func() (azcore.TokenCredential, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &plugin.Error{What: "service principal certificate", Err: err, Check: "check aadClientCertPath"}
		}
		var pw []byte
		if password != "" {
			pw = []byte(password)
		}
		certs, key, err := azidentity.ParseCertificates(b, pw)
		if err != nil {
			return nil, &plugin.Error{What: "service principal certificate " + path, Err: errors.New("cannot read a certificate and key from it"), Check: "PEM or PKCS#12; check aadClientCertPassword"}
		}
		cred, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: true,
		})
		if err != nil {
			return nil, &plugin.Error{What: "service principal certificate", Err: err, Check: "check aadClientCertPath, aadClientId and tenantId"}
		}
		return cred, nil
	}
	return identity{build: build, kind: "service principal certificate of client " + client, fingerprint: "cert:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}

func secretIdentity(secret, tenant, client string, opts azcore.ClientOptions, authority string, passthrough bool) (identity, error) {
	if passthrough {
		if client == "" {
			return identity{}, &plugin.Error{What: "service principal passthrough", Err: errors.New("no client ID"), Check: "set aadClientId in the Azure config or AZURE_CLIENT_ID"}
		}
		return identity{kind: "service principal passthrough of client " + client, passthrough: &[2]string{client, secret}}, nil
	}
	if err := requireIDs("service principal secret", tenant, client); err != nil {
		return identity{}, err
	}
	build := func() (azcore.TokenCredential, error) {
		cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: true,
		})
		if err != nil {
			return nil, &plugin.Error{What: "service principal secret", Err: err, Check: "check aadClientId and tenantId"}
		}
		return cred, nil
	}
	return identity{build: build, kind: "service principal secret of client " + client, fingerprint: "sp:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}
