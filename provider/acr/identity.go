package acr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
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
		return Config{}, fmt.Errorf("read Azure config: %w (check the path given as the first argument)", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return Config{}, fmt.Errorf("read Azure config %s: %w (check that the path is a readable file)", path, err)
	}
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		// The parser quotes the offending text, which may be a secret.
		return Config{}, fmt.Errorf("parse Azure config %s: not valid JSON or YAML, or a field has the wrong type (check the file's syntax)", path)
	}
	return c, nil
}

// identity is a chosen Azure identity.
type identity struct {
	// cred gets Entra tokens; nil in service-principal passthrough mode.
	cred azcore.TokenCredential
	// kind is a human description for logs and errors (no secrets).
	kind string
	// fingerprint identifies the identity in the token cache key.
	fingerprint string
	// tenant is sent with the exchange.
	tenant string
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

// newIdentity chooses the identity for req, in this order: the pod's
// service account (KEP-4412) when the kubelet sent a token and the service
// account carries the client and tenant annotations; then azure.json:
// workload identity, managed identity, certificate, secret; then the
// standard AZURE_* environment: workload identity, certificate, secret.
func newIdentity(cfg Config, req saRequest, s identitySettings) (identity, error) {
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
	return identity{}, errors.New("no Azure identity configured (set useManagedIdentityExtension, aadClientId with aadClientSecret or aadClientCertPath, or aadFederatedTokenFile in the Azure config, or the AZURE_* environment)")
}

// saRequest is the service-account part of a request.
type saRequest struct {
	token       string
	annotations map[string]string
}

func requireIDs(what, tenant, client string) error {
	switch {
	case tenant == "":
		return fmt.Errorf("%s: no tenant ID (set tenantId in the Azure config or AZURE_TENANT_ID)", what)
	case client == "":
		return fmt.Errorf("%s: no client ID (set aadClientId in the Azure config or AZURE_CLIENT_ID)", what)
	}
	return nil
}

func saIdentity(req saRequest, opts azcore.ClientOptions, authority string) (identity, error) {
	tenant, client := req.annotations[AnnotationTenantID], req.annotations[AnnotationClientID]
	for key, v := range map[string]string{AnnotationClientID: client, AnnotationTenantID: tenant} {
		if strings.TrimSpace(v) == "" {
			return identity{}, fmt.Errorf("service-account mode: annotation %s is missing or empty (annotate the pod's service account and list the key in the kubelet's tokenAttributes annotation keys)", key)
		}
	}
	token := req.token
	cred, err := azidentity.NewClientAssertionCredential(tenant, client, func(context.Context) (string, error) { return token, nil }, &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: opts, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return identity{}, fmt.Errorf("service-account mode: %w (check the service account's %s and %s annotations)", err, AnnotationClientID, AnnotationTenantID)
	}
	return identity{
		cred:        cred,
		kind:        "service account (client " + client + ")",
		fingerprint: "sa:" + authority + ":" + tenant + "/" + client + ":" + saTokenHash(token),
		tenant:      tenant,
	}, nil
}

// saTokenHash fingerprints the whole service-account token, so that a
// cached credential is only ever served for the very token Entra accepted:
// the token is not verified here, so its claims (issuer, subject) prove
// nothing, and a forged token copying them must not reach a cache entry.
func saTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func workloadIdentity(file, tenant, client string, opts azcore.ClientOptions, authority string) (identity, error) {
	if file == "" {
		return identity{}, errors.New("workload identity: no token file (set aadFederatedTokenFile in the Azure config or AZURE_FEDERATED_TOKEN_FILE)")
	}
	if err := requireIDs("workload identity", tenant, client); err != nil {
		return identity{}, err
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: opts, ClientID: client, TenantID: tenant, TokenFilePath: file, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return identity{}, fmt.Errorf("workload identity: %w (check aadFederatedTokenFile or AZURE_FEDERATED_TOKEN_FILE, aadClientId and tenantId)", err)
	}
	return identity{cred: cred, kind: "workload identity (client " + client + ")", fingerprint: "wi:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}

func managedIdentity(id, tenant string, opts azcore.ClientOptions) (identity, error) {
	o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
	kind, fp := "managed identity (system-assigned)", "mi:system"
	switch {
	case strings.Contains(strings.ToLower(id), "/subscriptions/"):
		o.ID = azidentity.ResourceID(id)
		kind, fp = "managed identity (resource "+id+")", "mi:resource="+strings.ToLower(id)
	case id != "":
		o.ID = azidentity.ClientID(id)
		kind, fp = "managed identity (client "+id+")", "mi:client="+strings.ToLower(id)
	}
	cred, err := azidentity.NewManagedIdentityCredential(o)
	if err != nil {
		return identity{}, fmt.Errorf("%s: %w (check userAssignedIdentityID in the Azure config)", kind, err)
	}
	return identity{cred: cred, kind: kind, fingerprint: fp, tenant: tenant}, nil
}

func certIdentity(path, password, tenant, client string, opts azcore.ClientOptions, authority string) (identity, error) {
	if err := requireIDs("service principal certificate", tenant, client); err != nil {
		return identity{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return identity{}, fmt.Errorf("service principal certificate: %w (check aadClientCertPath)", err)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(b, pw)
	if err != nil {
		return identity{}, fmt.Errorf("service principal certificate %s: cannot read a certificate and key from it (PEM or PKCS#12; check aadClientCertPassword)", path)
	}
	cred, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: opts, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return identity{}, fmt.Errorf("service principal certificate: %w (check aadClientCertPath, aadClientId and tenantId)", err)
	}
	return identity{cred: cred, kind: "service principal certificate (client " + client + ")", fingerprint: "cert:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}

func secretIdentity(secret, tenant, client string, opts azcore.ClientOptions, authority string, passthrough bool) (identity, error) {
	if passthrough {
		if client == "" {
			return identity{}, errors.New("service principal passthrough: no client ID (set aadClientId in the Azure config or AZURE_CLIENT_ID)")
		}
		return identity{kind: "service principal passthrough (client " + client + ")", passthrough: &[2]string{client, secret}}, nil
	}
	if err := requireIDs("service principal secret", tenant, client); err != nil {
		return identity{}, err
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: opts, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return identity{}, fmt.Errorf("service principal secret: %w (check aadClientId and tenantId)", err)
	}
	return identity{cred: cred, kind: "service principal secret (client " + client + ")", fingerprint: "sp:" + authority + ":" + tenant + "/" + client, tenant: tenant}, nil
}
