package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/plugin"
)

// Service-account annotations (KEP-4412) this role reads; the kubelet
// passes them only when its provider config lists them in tokenAttributes.
const (
	// AnnotationEnableWI opts a service account into GKE's workload
	// identity image pulls (upstream's key, value "true").
	AnnotationEnableWI = "iam.gke.io/enable-wi-image-pull"
	// AnnotationServiceAccount names the Google service account to
	// impersonate with the federated token (generic federation).
	AnnotationServiceAccount = "iam.gke.io/gcp-service-account"
)

// Environment variables of Google's libraries this role reads itself.
const (
	envCredentials  = "GOOGLE_APPLICATION_CREDENTIALS"
	envCloudSDK     = "CLOUDSDK_CONFIG"
	envMetadataHost = "GCE_METADATA_HOST"
)

// maxCredentialsFile bounds an ADC file read: they are a few KiB.
const maxCredentialsFile = 1 << 20

// source is where one request's credential comes from.
type source int

const (
	// fromMetadata is a service account of the instance (metadata server).
	fromMetadata source = iota
	// fromADCFile is an Application Default Credentials JSON file.
	fromADCFile
	// fromGKE is the pod's token exchanged for the GKE identity namespace.
	fromGKE
	// fromFederation is the pod's token exchanged at a workload identity
	// pool provider, optionally impersonating a service account.
	fromFederation
	// fromDockercfg is instance attribute google-dockercfg.
	fromDockercfg
	// fromDockercfgURL is the URL in instance attribute google-dockercfg-url.
	fromDockercfgURL
)

// identity is the credential source of one request, chosen without any
// network I/O.
type identity struct {
	source source
	// account is the metadata service account: "default" or an email.
	account string
	// file and credentials are the ADC file's path and contents (secret).
	file        string
	credentials []byte
	// kind is the ADC file's type, e.g. "external_account".
	kind string
	// audience is the STS audience of the pod-token exchanges.
	audience string
	// impersonate is the service account the federated token impersonates.
	impersonate string
	// podToken is the pod's service-account token (secret).
	podToken string
	// endpoints are the URLs of the token fetch's steps, to say which
	// one failed.
	endpoints endpoints
}

// step is one step of a library token fetch.
type step int

const (
	stepUnknown step = iota
	stepSTS
	stepImpersonation
	stepSubject
	stepOAuth2
)

// endpoints are the URLs an identity's token fetch calls, as its
// configuration gives them (empty when it has no such step).
type endpoints struct {
	sts, impersonation, subject, oauth2 string
}

// step is the step whose URL a call to host (host[:port], as in the
// request URL) and path went to: the same host and path, else the same
// host alone (in the order of the exchange).
func (e endpoints) step(host, path string) step {
	steps := []struct {
		s   step
		raw string
	}{{stepSTS, e.sts}, {stepImpersonation, e.impersonation}, {stepSubject, e.subject}, {stepOAuth2, e.oauth2}}
	for _, exact := range []bool{true, false} {
		for _, c := range steps {
			if c.raw == "" {
				continue
			}
			u, err := url.Parse(c.raw)
			if err != nil || !strings.EqualFold(u.Host, host) {
				continue
			}
			if !exact || u.Path == path {
				return c.s
			}
		}
	}
	return stepUnknown
}

// defaultOAuth2URL is Google's OAuth 2.0 token endpoint, the one
// golang.org/x/oauth2/google uses when a file gives no token_uri.
const defaultOAuth2URL = "https://oauth2.googleapis.com/token"

// Options are the role's flags, and what they read from the node.
type Options struct {
	// AuthFlow is FlowGCR (also when empty), FlowDockercfg or
	// FlowDockercfgURL.
	AuthFlow string
	// ServiceAccount is the instance's service account to use instead of
	// Application Default Credentials (--service-account).
	ServiceAccount string
	// IdentityProvider and ProjectID enable GKE-style workload identity
	// pulls for annotated service accounts (upstream's flags).
	IdentityProvider, ProjectID string
	// WorkloadIdentityProvider is the audience of generic workload identity
	// federation for pods' tokens:
	// //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X.
	WorkloadIdentityProvider string
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
}

func (o Options) getenv(name string) string {
	if o.Getenv == nil {
		return os.Getenv(name)
	}
	return o.Getenv(name)
}

// validate checks the flags' combinations once, before any request.
func (o Options) validate() error {
	if o.ServiceAccount != "" {
		if err := checkEmail(o.ServiceAccount, "--service-account"); err != nil {
			return err
		}
	}
	switch {
	case o.IdentityProvider != "" && o.ProjectID == "":
		return errors.New("--identity-provider needs --project-id (the project of the cluster's identity namespace)")
	case o.ProjectID != "" && o.IdentityProvider == "":
		return errors.New("--project-id needs --identity-provider (the cluster's OIDC issuer URL)")
	}
	return nil
}

// choose picks req's credential source: a pod's token when the service
// account asks for it (an annotated pod never falls back to the node's
// identity), else the dockercfg flows, --service-account, then Application
// Default Credentials in Google's order: GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's ADC file, the metadata server. Only local files are read.
func (o Options) choose(req plugin.Request) (identity, error) {
	ann := req.ServiceAccountAnnotations
	if v, ok := ann[AnnotationEnableWI]; ok && v == "true" {
		switch {
		case o.IdentityProvider == "":
			return identity{}, fmt.Errorf("the service account is annotated %s but the provider has no --identity-provider and --project-id", AnnotationEnableWI)
		case req.ServiceAccountToken == "":
			return identity{}, fmt.Errorf("the service account is annotated %s but the kubelet sent no service-account token (add tokenAttributes to the provider's kubelet config)", AnnotationEnableWI)
		}
		return identity{
			source:    fromGKE,
			audience:  "identitynamespace:" + o.ProjectID + ".svc.id.goog:" + o.IdentityProvider,
			podToken:  req.ServiceAccountToken,
			endpoints: endpoints{sts: stsTokenURL},
		}, nil
	}
	gsa := ann[AnnotationServiceAccount]
	if o.WorkloadIdentityProvider != "" && req.ServiceAccountToken != "" {
		if gsa != "" {
			if err := checkEmail(gsa, "annotation "+AnnotationServiceAccount); err != nil {
				return identity{}, err
			}
		}
		id := identity{source: fromFederation, audience: o.WorkloadIdentityProvider, impersonate: gsa, podToken: req.ServiceAccountToken,
			endpoints: endpoints{sts: stsTokenURL}}
		if gsa != "" {
			id.endpoints.impersonation = impersonationURL(gsa)
		}
		return id, nil
	}
	switch {
	case gsa == "" || o.IdentityProvider != "":
		// GKE's workload identity for applications annotates service
		// accounts too: without the image-pull opt-in, upstream pulls
		// with the node's identity, and so does this role.
	case o.WorkloadIdentityProvider == "":
		return identity{}, fmt.Errorf("the service account is annotated %s=%s but the provider has no --workload-identity-provider (the node's own identity is never used for it)", AnnotationServiceAccount, gsa)
	default:
		return identity{}, fmt.Errorf("the service account is annotated %s=%s but the kubelet sent no service-account token (add tokenAttributes to the provider's kubelet config)", AnnotationServiceAccount, gsa)
	}
	switch o.AuthFlow {
	case FlowDockercfg:
		return identity{source: fromDockercfg}, nil
	case FlowDockercfgURL:
		return identity{source: fromDockercfgURL}, nil
	}
	if o.ServiceAccount != "" {
		return identity{source: fromMetadata, account: o.ServiceAccount}, nil
	}
	if path := o.getenv(envCredentials); path != "" {
		data, err := readCredentials(path)
		if err != nil {
			return identity{}, plugin.Fail("read "+envCredentials, err, "check that "+envCredentials+" names the credentials file, readable by the kubelet's user")
		}
		return fileIdentity(path, data), nil
	}
	if path := o.wellKnownFile(); path != "" {
		if data, err := readCredentials(path); err == nil {
			return fileIdentity(path, data), nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return identity{}, fmt.Errorf("read gcloud's ADC file: %w", err)
		}
	}
	return identity{source: fromMetadata, account: "default"}, nil
}

// wellKnownFile is gcloud's ADC file, where golang.org/x/oauth2/google
// looks for it: $CLOUDSDK_CONFIG, else %APPDATA%\gcloud on Windows and
// ~/.config/gcloud elsewhere.
func (o Options) wellKnownFile() string {
	const name = "application_default_credentials.json"
	if dir := o.getenv(envCloudSDK); dir != "" {
		return filepath.Join(dir, name)
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(o.getenv("APPDATA"), "gcloud", name)
	}
	home := o.getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "gcloud", name)
}

// readCredentials reads an ADC file, bounded and regular files only (a
// FIFO must not hang the exec), and checks it is a JSON object with a type
// (the library says which types it takes).
func readCredentials(path string) ([]byte, error) {
	data, err := safefile.ReadFile(path, maxCredentialsFile)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d bytes (is it the right file?)", path, maxCredentialsFile)
	}
	if err != nil {
		return nil, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Type == "" {
		return nil, fmt.Errorf("%s is not a Google credentials JSON file: it has no \"type\"", path)
	}
	return data, nil
}

// credentialsHead is what kcred reads of an ADC file itself: what the
// exchange calls, for errors and logs (the library reads the file again).
type credentialsHead struct {
	Type           string `json:"type"`
	Audience       string `json:"audience"`
	Impersonation  string `json:"service_account_impersonation_url"`
	TokenURL       string `json:"token_url"` // external_account's STS, external_account_authorized_user's OAuth 2.0
	TokenURI       string `json:"token_uri"` // service_account's OAuth 2.0
	UniverseDomain string `json:"universe_domain"`
	Source         struct {
		File   string `json:"file"`
		URL    string `json:"url"`
		Format struct {
			Type  string `json:"type"`
			Field string `json:"subject_token_field_name"`
		} `json:"format"`
	} `json:"credential_source"`
	SourceCredentials struct {
		TokenURI string `json:"token_uri"`
	} `json:"source_credentials"`
}

// fileIdentity is the identity of an ADC file, with what its JSON says
// about the exchange.
func fileIdentity(path string, data []byte) identity {
	var head credentialsHead
	_ = json.Unmarshal(data, &head)
	id := identity{source: fromADCFile, file: path, credentials: data, kind: head.Type, audience: head.Audience}
	if head.Impersonation != "" {
		name := strings.TrimSuffix(head.Impersonation, ":generateAccessToken")
		id.impersonate = name[strings.LastIndex(name, "/")+1:]
	}
	id.endpoints = endpoints{impersonation: head.Impersonation, subject: head.Source.URL, oauth2: head.TokenURI}
	if head.Type == "external_account_authorized_user" {
		// Its refresh goes to its token_url (an STS host, but an OAuth 2.0
		// refresh-token grant).
		id.endpoints.oauth2 = head.TokenURL
	}
	if id.endpoints.oauth2 == "" {
		id.endpoints.oauth2 = head.SourceCredentials.TokenURI
	}
	if id.endpoints.oauth2 == "" {
		id.endpoints.oauth2 = defaultOAuth2URL
	}
	if head.Type == "external_account" {
		// The library's default when the file gives none.
		id.endpoints.sts = head.TokenURL
		if id.endpoints.sts == "" {
			domain := head.UniverseDomain
			if domain == "" {
				domain = "googleapis.com"
			}
			id.endpoints.sts = "https://sts." + domain + "/v1/token"
		}
	}
	return id
}

// maxSubjectFile bounds the read of a credential_source file for its
// secret: subject tokens are a few KiB.
const maxSubjectFile = 64 << 10

// fileSecrets are the secrets an ADC file holds or names that kcred can
// learn without network I/O, to redact from every error of its fetch: its
// refresh token, client secret and private key, and the subject token of
// a file credential_source (read here, bounded, as the library will read
// it; an opaque token is not JWT-shaped, so nothing else would hide it).
func fileSecrets(data []byte) []string {
	var f struct {
		RefreshToken string `json:"refresh_token"`
		ClientSecret string `json:"client_secret"`
		PrivateKey   string `json:"private_key"`
		Source       struct {
			RefreshToken string `json:"refresh_token"`
			ClientSecret string `json:"client_secret"`
			PrivateKey   string `json:"private_key"`
		} `json:"source_credentials"`
	}
	var head credentialsHead
	if json.Unmarshal(data, &f) != nil || json.Unmarshal(data, &head) != nil {
		return nil
	}
	secrets := []string{f.RefreshToken, f.ClientSecret, f.PrivateKey, f.Source.RefreshToken, f.Source.ClientSecret, f.Source.PrivateKey}
	if head.Source.File == "" {
		return secrets
	}
	raw, err := safefile.ReadFile(head.Source.File, maxSubjectFile)
	if err != nil {
		return secrets // the library says why
	}
	tok := strings.TrimSpace(string(raw))
	secrets = append(secrets, tok)
	if head.Source.Format.Type == "json" {
		var fields map[string]any
		if json.Unmarshal(raw, &fields) == nil {
			if s, ok := fields[head.Source.Format.Field].(string); ok {
				secrets = append(secrets, s)
			}
		}
	}
	return secrets
}

// metadataHost is where the metadata library sends requests.
func (o Options) metadataHost() string {
	if h := o.getenv(envMetadataHost); h != "" {
		return h
	}
	return "169.254.169.254"
}

// hashOf is a hex SHA-256, to key the cache by secrets without keeping them.
func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
