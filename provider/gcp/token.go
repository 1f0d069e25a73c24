package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

// Username is the registry user of a Google access token (Google's
// documented one; Artifact Registry refuses odd ones).
const Username = "oauth2accesstoken"

// Google endpoints and values of the token exchanges.
const (
	cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
	stsTokenURL        = "https://sts.googleapis.com/v1/token"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// registryScopes are the instance scopes with which a metadata token can
// pull: cloud-platform, or a Cloud Storage scope (GCE's default scopes
// carry devstorage.read_only, which Container and Artifact Registry take).
var registryScopes = []string{
	cloudPlatformScope,
	"https://www.googleapis.com/auth/cloud-platform.read-only",
	"https://www.googleapis.com/auth/devstorage.read_only",
	"https://www.googleapis.com/auth/devstorage.read_write",
	"https://www.googleapis.com/auth/devstorage.full_control",
}

// impersonationURL is IAM Credentials generateAccessToken for email.
func impersonationURL(email string) string {
	return "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + url.PathEscape(email) + ":generateAccessToken"
}

// clients are the HTTP clients of every Google library call: bounded, and
// the metadata one never proxied (metadata servers refuse proxied requests
// and a node's HTTPS_PROXY is not meant for them).
type clients struct {
	api, metadata *http.Client
}

// withClient makes the x/oauth2 libraries use c.api for every call (STS,
// IAM Credentials, OAuth 2.0, and the AWS or URL credential sources).
func (c clients) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.api)
}

// metadataToken gets the access token of an instance service account from
// the metadata server, after checking the account can pull.
func (c clients) metadataToken(ctx context.Context, account, host string) (cloudtoken.Token, error) {
	mc := metadata.NewClient(c.metadata)
	where := fmt.Sprintf("the metadata server at %s", host)
	hint := "check that the node runs on Google Cloud with a service account and reaches its metadata server, " + envMetadataHost +
		" when set; off Google Cloud, point " + envCredentials + " at a credentials file"
	if account != "default" {
		hint = "check that " + account + " is a service account of the instance (gcloud compute instances describe), or use Application Default Credentials"
	}
	scopes, err := mc.ScopesWithContext(ctx, account)
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail("read the scopes of service account "+account+" from "+where, metadataError(err), hint)
	}
	if !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(registryScopes, s) }) {
		return cloudtoken.Token{}, plugin.Fail("service account "+account+" of the instance",
			errors.New("no access scope lets it pull images"),
			"give the instance the cloud-platform or devstorage.read_only scope: gcloud compute instances set-service-account --scopes=cloud-platform")
	}
	raw, err := mc.GetWithContext(ctx, "instance/service-accounts/"+account+"/token")
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail("get the token of service account "+account+" from "+where, metadataError(err), hint)
	}
	tok, err := parseMetadataToken(raw, time.Now())
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail("get the token of service account "+account+" from "+where, err,
			"check that "+host+" is a GCE metadata server")
	}
	return tok, nil
}

// maxTokenLife bounds a claimed expires_in before the time arithmetic (the
// driver clamps lifetimes to an hour anyway).
const maxTokenLife = 24 * time.Hour

// parseMetadataToken reads the metadata server's token answer,
// {"access_token":…,"expires_in":SECONDS,"token_type":"Bearer"}: the
// expiry is the one given (a metadata token may have minutes left).
func parseMetadataToken(raw string, now time.Time) (cloudtoken.Token, error) {
	var tok struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(raw), &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn < 1 {
		return cloudtoken.Token{}, errors.New("the answer is not a token (malformed JSON, or no access_token and expires_in)")
	}
	life := maxTokenLife
	if tok.ExpiresIn < maxTokenLife.Seconds() {
		life = time.Duration(tok.ExpiresIn * float64(time.Second))
	}
	return cloudtoken.Token{Username: Username, Password: tok.AccessToken, ExpiresAt: now.Add(life)}, nil
}

// libraryToken runs one x/oauth2 token source.
func libraryToken(ts oauth2.TokenSource) (cloudtoken.Token, error) {
	tok, err := ts.Token()
	if err != nil {
		return cloudtoken.Token{}, err
	}
	if tok.AccessToken == "" {
		return cloudtoken.Token{}, errors.New("the answer holds no access token")
	}
	return cloudtoken.Token{Username: Username, Password: tok.AccessToken, ExpiresAt: tok.Expiry}, nil
}

// fileToken gets a token from an Application Default Credentials file of
// any type golang.org/x/oauth2/google takes (service_account,
// authorized_user, external_account, impersonated_service_account, ...).
func (c clients) fileToken(ctx context.Context, id identity) (cloudtoken.Token, error) {
	ctx = c.withClient(ctx)
	creds, err := google.CredentialsFromJSONWithParams(ctx, id.credentials, google.CredentialsParams{Scopes: []string{cloudPlatformScope}})
	if err != nil {
		return cloudtoken.Token{}, plugin.Fail("load Application Default Credentials "+id.file, err, "check the file's JSON; gcloud auth application-default login or gcloud iam workload-identity-pools create-cred-config write one")
	}
	return libraryToken(creds.TokenSource)
}

// subjectToken supplies the pod's token to the STS exchange from memory:
// it is never written to a file.
type subjectToken string

func (s subjectToken) SubjectToken(context.Context, externalaccount.SupplierOptions) (string, error) {
	return string(s), nil
}

// podToken exchanges the pod's service-account token at Google STS for the
// audience, then impersonates id.impersonate when set.
func (c clients) podToken(ctx context.Context, id identity) (cloudtoken.Token, error) {
	cfg := externalaccount.Config{
		Audience:             id.audience,
		SubjectTokenType:     tokenTypeJWT,
		TokenURL:             stsTokenURL,
		Scopes:               []string{cloudPlatformScope},
		SubjectTokenSupplier: subjectToken(id.podToken),
	}
	if id.impersonate != "" {
		cfg.ServiceAccountImpersonationURL = impersonationURL(id.impersonate)
	}
	ts, err := externalaccount.NewTokenSource(c.withClient(ctx), cfg)
	if err != nil {
		return cloudtoken.Token{}, err
	}
	return libraryToken(ts)
}

// Per-attempt bounds: a metadata server answers in milliseconds (the
// library retries failed attempts a few times), an API in seconds.
const (
	metadataAttempt = 3 * time.Second
	apiAttempt      = 10 * time.Second
)

// newClients returns the bounded clients of one fetch, the API one noting
// its last call in last.
func newClients(last *lastCall) clients {
	// The metadata server is link-local: never through a proxy (the
	// library's own client does the same), and never slow.
	md := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: metadataAttempt}).DialContext,
		ResponseHeaderTimeout: metadataAttempt,
		MaxIdleConns:          2,
		IdleConnTimeout:       10 * time.Second,
	}
	return clients{
		api:      &http.Client{Transport: tracing{base: cloudtoken.Transport(), last: last}, Timeout: apiAttempt},
		metadata: &http.Client{Transport: httpbound.Wrap(md), Timeout: metadataAttempt},
	}
}

// lastCall remembers how the last call of a fetch's API client went, so
// that an x/oauth2 error (whose text says "oauth2/google" for STS, IAM
// Credentials and OAuth 2.0 alike, keeps no error chain, and quotes the
// endpoint's whole error body, an echo of the request included) can say
// which step failed and why: unreachable, refused, or answered with
// nonsense. A refusal's body is kept, bounded, so that only its OAuth 2.0
// error fields are shown.
type lastCall struct {
	mu     sync.Mutex
	host   string
	path   string
	status int
	err    error  // the round trip's or the body's read error
	body   []byte // the start of a refusal's body
}

// maxErrorBody bounds the part of a refusal's body kept for its error
// fields: Google's error answers are a few hundred bytes.
const maxErrorBody = 16 << 10

func (l *lastCall) start(host, path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.host, l.path, l.status, l.err, l.body = host, path, 0, nil, nil
}

func (l *lastCall) set(status int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status, l.err = status, err
}

// keep appends p to a refusal's body, up to maxErrorBody.
func (l *lastCall) keep(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := maxErrorBody - len(l.body); room > 0 {
		l.body = append(l.body, p[:min(len(p), room)]...)
	}
}

// callState is a copy of a lastCall.
type callState struct {
	host, path string
	status     int
	err        error
	body       []byte
}

func (l *lastCall) get() callState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return callState{host: l.host, path: l.path, status: l.status, err: l.err, body: l.body}
}

// tracing wraps base, noting each call in last.
type tracing struct {
	base http.RoundTripper
	last *lastCall
}

func (t tracing) RoundTrip(r *http.Request) (*http.Response, error) {
	t.last.start(r.URL.Host, r.URL.Path)
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.last.set(0, err)
		return nil, err
	}
	t.last.set(resp.StatusCode, nil)
	refused := resp.StatusCode < 200 || resp.StatusCode > 299
	resp.Body = &tracedBody{ReadCloser: resp.Body, last: t.last, status: resp.StatusCode, refused: refused}
	return resp, nil
}

// tracedBody notes a body cut short or over the size bound, and keeps the
// start of a refusal's.
type tracedBody struct {
	io.ReadCloser
	last    *lastCall
	status  int
	refused bool
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.refused && n > 0 {
		b.last.keep(p[:n])
	}
	if err != nil && err != io.EOF {
		b.last.set(b.status, err)
	}
	return n, err
}

// explainLibrary turns an x/oauth2 error into what failed, why, and what
// to check, from how the last call went. secrets are what kcred knows must
// not be shown (see fileSecrets).
func explainLibrary(err error, last *lastCall, id identity, secrets []string) error {
	call := last.get()
	what, check := failedStep(call.host, call.path, id)
	switch {
	case call.err != nil && cloudtoken.IsMalformed(call.err):
		return plugin.Fail(what, call.err, "the answer is not Google's: check that no proxy answers in place of "+call.host)
	case call.err != nil:
		// The cause, with its type, so that the driver words a timeout.
		return plugin.Fail(what, call.err, "check that the node reaches "+call.host+" (DNS, firewall) and HTTPS_PROXY/NO_PROXY")
	case call.status >= 200 && call.status < 300:
		return plugin.Fail(what, cloudtoken.Malformed("%s", libraryError{err, secrets}.Error()),
			"the answer is not Google's: check that no proxy answers in place of "+call.host)
	case call.status != 0:
		// The library's text ends with the whole body: never shown.
		return plugin.Fail(what, refusal{cloudtoken.ErrorAnswer(call.status, call.body, secrets...), err}, check)
	}
	return plugin.Fail(what, libraryError{err, secrets}, check)
}

// refusal is an endpoint's error answer as cloudtoken.ErrorAnswer words
// it; it unwraps to the library's error, whose text is not shown.
type refusal struct {
	msg string
	err error
}

func (r refusal) Error() string { return r.msg }
func (r refusal) Unwrap() error { return r.err }

// libraryError words an x/oauth2 error by its cause: the library nests
// the STS failure inside the impersonation call's text, each behind the
// request line (`Post "URL": `) and an "oauth2/google: " prefix. What
// remains is redacted: secrets, and any token-bearing field.
type libraryError struct {
	err     error
	secrets []string
}

func (e libraryError) Error() string {
	msg := dropRequestLines(e.err.Error())
	// The library quotes what an executable credential source or an
	// endpoint printed after "Response: ": it may be the subject token.
	if i := strings.Index(msg, "Response: "); i >= 0 {
		msg = strings.TrimSpace(msg[:i]) + "; its output is not shown"
	}
	for _, prefix := range []string{"oauth2/google/externalaccount: ", "oauth2/google: "} {
		if i := strings.LastIndex(msg, prefix); i >= 0 {
			msg = msg[i+len(prefix):]
		}
	}
	// "status code N: BODY": the body is the endpoint's (untrusted) text,
	// which may echo the request; only its error fields are kept.
	if rest, ok := strings.CutPrefix(msg, "status code "); ok {
		if code, body, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(code); err == nil {
				return cloudtoken.ErrorAnswer(n, []byte(body), e.secrets...)
			}
			return "status code " + plugin.Quote(plugin.RedactFields(plugin.Redact(code, e.secrets...)))
		}
	}
	return plugin.RedactFields(plugin.Redact(msg, e.secrets...))
}

// dropRequestLines removes net/http's `Get "URL": ` and `Post "URL": `
// (no regexp: its tables would be built on every exec).
func dropRequestLines(msg string) string {
	for _, verb := range []string{`Get "`, `Post "`} {
		for {
			i := strings.Index(msg, verb)
			if i < 0 {
				break
			}
			j := strings.Index(msg[i+len(verb):], `": `)
			if j < 0 {
				break
			}
			msg = msg[:i] + msg[i+len(verb)+j+len(`": `):]
		}
	}
	return msg
}

func (e libraryError) Unwrap() error { return e.err }

// failedStep says which step of a library token fetch failed, from the
// last call's host and path, and what to check there. The step is the
// endpoint of id's own configuration (a credentials file's token_url,
// service_account_impersonation_url or credential_source url, or the
// Google defaults) that the call went to, so that a regional or private
// STS endpoint is still STS.
func failedStep(host, path string, id identity) (what, check string) {
	if host == "" {
		return "get a Google token", "check the credentials file and its credential_source"
	}
	switch id.endpoints.step(host, path) {
	case stepSTS:
		return "exchange the token at Google STS endpoint " + host,
			"check that the workload identity pool provider exists and trusts the token's issuer and audience"
	case stepImpersonation:
		return "impersonate service account " + id.impersonate,
			"grant the federated principal roles/iam.workloadIdentityUser (or serviceAccountTokenCreator) on " + id.impersonate
	case stepOAuth2:
		return "get a token from Google OAuth 2.0", "check that the credentials are not revoked or expired"
	case stepSubject:
		return "get the subject token from " + host, "check the credential_source of the external account configuration"
	}
	if id.kind == "external_account" {
		// Neither STS nor IAM: the credential source's own calls (AWS
		// metadata and the like).
		return "get the subject token from " + host, "check the credential_source of the external account configuration"
	}
	return "get a Google token from " + host, "check the credentials file's token_uri and that the credentials are not revoked or expired"
}

// metadataError words the library's errors: a missing path is a missing
// account; a status carries its body, of which only the error fields are
// shown.
func metadataError(err error) error {
	var nd metadata.NotDefinedError
	var me *metadata.Error
	switch {
	case errors.As(err, &nd):
		return errors.New("no such service account on the instance: HTTP 404")
	case errors.As(err, &me):
		return errors.New(cloudtoken.ErrorAnswer(me.Code, []byte(me.Message)))
	}
	return err
}
