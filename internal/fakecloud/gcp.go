package fakecloud

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Operations the GCP emulator records and accepts faults for.
const (
	OpGCEToken     = "gce:token"
	OpGCEEmail     = "gce:email"
	OpGCEScopes    = "gce:scopes"
	OpGCEAttribute = "gce:attribute"
	// OpGCEMetadata is any other metadata path (project id, universe
	// domain, the service-account listing).
	OpGCEMetadata = "gce:metadata"
	// OpGoogleSTS is the Security Token Service token exchange.
	OpGoogleSTS = "sts:token"
	// OpIAMGenerateAccessToken is IAM Credentials generateAccessToken
	// (service-account impersonation).
	OpIAMGenerateAccessToken = "iamcredentials:generateAccessToken"
	// OpGoogleOAuth2 is the OAuth 2.0 token endpoint (refresh tokens of
	// authorized users, JWT bearer grants of service-account keys).
	OpGoogleOAuth2 = "oauth2:token"
)

// Google token types and grants used on the wire.
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeAWS is the subject token type of AWS-sourced external
	// accounts: a serialized, signed GetCallerIdentity request.
	TokenTypeAWS = "urn:ietf:params:aws:token-type:aws4_request"
	// CloudPlatformScope is the scope Artifact Registry and GCR accept.
	CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
	oauth2TokenURL     = "https://oauth2.googleapis.com/token"
)

// GoogleAPIHosts are the googleapis.com hosts the emulator serves through
// the proxy: STS, IAM Credentials and the OAuth 2.0 token endpoints.
var GoogleAPIHosts = []string{
	"sts.googleapis.com",
	"iamcredentials.googleapis.com",
	"oauth2.googleapis.com",
	"www.googleapis.com",
}

// MetadataHost is the GCE metadata server's name (the library's default is
// its address, 169.254.169.254, which the AWS and Azure emulators own in
// the proxy: point GCE_METADATA_HOST at a listener serving Metadata).
const MetadataHost = "metadata.google.internal"

// GCP emulates the Google endpoints of a GCR / Artifact Registry pull: the
// GCE metadata server (service-account tokens, email and scopes, instance
// attributes), the Security Token Service (workload identity federation and
// GKE workload identity exchanges), IAM Credentials generateAccessToken
// (impersonation) and the OAuth 2.0 token endpoint (ADC files of authorized
// users and service-account keys).
//
// Like Google, it checks what it is sent: the metadata server wants
// `Metadata-Flavor: Google` and refuses proxied requests, STS accepts only
// audiences it trusts and subject tokens that are well-formed unexpired JWTs
// (or signed AWS requests targeting the audience), and IAM Credentials
// accepts only bearer tokens this emulator issued, for service accounts the
// test allowed. Every access token it issues can be checked with
// ValidAccessToken, so a test registry can accept exactly those.
type GCP struct {
	Recorder
	Faults

	// ProjectID and ProjectNumber are what the metadata server reports.
	ProjectID, ProjectNumber string

	mu            sync.Mutex
	tokenLife     time.Duration
	now           func() time.Time
	defaultSA     string
	accounts      map[string][]string // email -> scopes
	attributes    map[string]string
	audiences     map[string]bool
	impersonable  map[string]bool
	issued        map[string]GCPGrant
	refreshTokens map[string]authorizedUser // refresh token -> its client
	keys          map[string]serviceKey     // private_key_id -> key
}

// GCPGrant is what an issued access token stands for.
type GCPGrant struct {
	// Identity names who the token is for: "gce:EMAIL" (metadata server),
	// "federated:AUDIENCE:SUBJECT" (STS), "sa:EMAIL" (impersonation),
	// "user:CLIENT_ID" (authorized user) or "key:EMAIL" (service-account key).
	Identity string
	// Scopes are the scopes it was issued with, when known.
	Scopes []string
	// ExpiresAt is when it stops working.
	ExpiresAt time.Time
}

type authorizedUser struct{ clientID, clientSecret string }

type serviceKey struct {
	email string
	pub   *rsa.PublicKey
}

// NewGCP returns an emulator for project "kcred-test" (number
// 123456789012) whose instance runs as the default service account
// node@kcred-test.iam.gserviceaccount.com with the cloud-platform scope, and
// which issues one-hour tokens.
func NewGCP() *GCP {
	g := &GCP{
		ProjectID:     "kcred-test",
		ProjectNumber: "123456789012",
		tokenLife:     time.Hour,
		now:           time.Now,
		accounts:      map[string][]string{},
		attributes:    map[string]string{},
		audiences:     map[string]bool{},
		impersonable:  map[string]bool{},
		issued:        map[string]GCPGrant{},
		refreshTokens: map[string]authorizedUser{},
		keys:          map[string]serviceKey{},
	}
	g.defaultSA = "node@kcred-test.iam.gserviceaccount.com"
	g.accounts[g.defaultSA] = []string{CloudPlatformScope}
	return g
}

// Install routes the googleapis.com hosts and metadata.google.internal
// through p.
func (g *GCP) Install(p *Proxy) {
	p.Route(MetadataHost, g.Metadata())
	for _, h := range GoogleAPIHosts {
		p.Route(h, g.APIs())
	}
}

// DefaultAccount returns the email of the instance's default service
// account.
func (g *GCP) DefaultAccount() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.defaultSA
}

// SetDefaultAccount makes email, with scopes, the instance's default
// service account; "" leaves the instance without one (the metadata server
// then answers 404 for "default").
func (g *GCP) SetDefaultAccount(email string, scopes ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.accounts, g.defaultSA)
	g.defaultSA = email
	if email != "" {
		g.accounts[email] = scopes
	}
}

// AddAccount attaches another service account, with scopes, to the
// instance (for `--service-account EMAIL`).
func (g *GCP) AddAccount(email string, scopes ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.accounts[email] = scopes
}

// SetAttribute sets instance attribute key (e.g. "google-dockercfg"); an
// empty value removes it.
func (g *GCP) SetAttribute(key, value string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if value == "" {
		delete(g.attributes, key)
		return
	}
	g.attributes[key] = value
}

// SetTokenLifetime sets how long newly issued tokens live (metadata, STS,
// impersonation and OAuth 2.0 alike); zero or negative issues tokens that
// are already expired.
func (g *GCP) SetTokenLifetime(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokenLife = d
}

// TrustAudience makes STS accept exchanges for audience: a workload
// identity provider ("//iam.googleapis.com/projects/N/locations/global/
// workloadIdentityPools/P/providers/X") or a GKE identity namespace
// ("identitynamespace:PROJECT.svc.id.goog:ISSUER").
func (g *GCP) TrustAudience(audience string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.audiences[audience] = true
}

// AllowImpersonation lets any token this emulator issued impersonate the
// service account email; others get 403 PERMISSION_DENIED.
func (g *GCP) AllowImpersonation(email string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.impersonable[email] = true
}

// ValidAccessToken reports whether tok is an unexpired access token this
// emulator issued, and what it stands for.
func (g *GCP) ValidAccessToken(tok string) (GCPGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.issued[tok]
	if !ok || !g.now().Before(gr.ExpiresAt) {
		return GCPGrant{}, false
	}
	return gr, true
}

// AuthorizedUserJSON returns a gcloud ADC file of type authorized_user
// whose refresh token the OAuth 2.0 endpoint accepts.
func (g *GCP) AuthorizedUserJSON() []byte {
	u := authorizedUser{clientID: randomHex(8) + ".apps.googleusercontent.com", clientSecret: randomHex(12)}
	rt := "1//" + randomHex(24)
	g.mu.Lock()
	g.refreshTokens[rt] = u
	g.mu.Unlock()
	b, _ := json.Marshal(map[string]string{
		"type": "authorized_user", "client_id": u.clientID, "client_secret": u.clientSecret, "refresh_token": rt,
	})
	return b
}

// ServiceAccountKeyJSON returns a service-account key file for email with
// a fresh RSA key whose signed JWT bearer grants the OAuth 2.0 endpoint
// accepts.
func (g *GCP) ServiceAccountKeyJSON(email string) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: generate service-account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: encode service-account key: %w", err)
	}
	id := randomHex(20)
	g.mu.Lock()
	g.keys[id] = serviceKey{email: email, pub: &key.PublicKey}
	g.mu.Unlock()
	return json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     g.ProjectID,
		"private_key_id": id,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      randomHex(10),
		"token_uri":      oauth2TokenURL,
	})
}

// issue mints an access token for identity.
func (g *GCP) issue(identity string, scopes []string, maxLife time.Duration) (string, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	life := g.tokenLife
	if maxLife > 0 && maxLife < life {
		life = maxLife
	}
	tok := "ya29.fake-" + randomHex(24)
	exp := g.now().Add(life).Truncate(time.Second)
	g.issued[tok] = GCPGrant{Identity: identity, Scopes: scopes, ExpiresAt: exp}
	return tok, exp
}

// Metadata serves the GCE metadata server under /computeMetadata/v1/ (over
// plain HTTP, as GCE_METADATA_HOST expects). Like the real one it refuses
// requests without `Metadata-Flavor: Google` or with X-Forwarded-For, and
// marks every answer with `Metadata-Flavor: Google`.
func (g *GCP) Metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Metadata-Flavor", "Google")
		w.Header().Set("Server", "Metadata Server for VM")
		suffix, ok := strings.CutPrefix(r.URL.Path, "/computeMetadata/v1/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		op, acct, leaf := metadataOp(suffix)
		g.Record(Call{Op: op, Host: r.Host, Header: r.Header.Clone(), Form: map[string]string{
			"path": suffix, "account": acct, "scopes": r.URL.Query().Get("scopes"), "alt": r.URL.Query().Get("alt"),
		}})
		switch {
		case r.Header.Get("X-Forwarded-For") != "":
			http.Error(w, "Request forbidden: X-Forwarded-For header not allowed", http.StatusForbidden)
			return
		case r.Header.Get("Metadata-Flavor") != "Google":
			http.Error(w, "Missing required header: Metadata-Flavor: Google", http.StatusForbidden)
			return
		case r.Method != http.MethodGet:
			http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if g.ApplyRequest(op, w, r) {
			return
		}
		g.serveMetadata(w, r, op, suffix, acct, leaf)
	})
}

// metadataOp classifies a metadata path; for service-account paths it also
// returns the account ("default" or an email) and the leaf ("token", ...).
func metadataOp(suffix string) (op, acct, leaf string) {
	if rest, ok := strings.CutPrefix(suffix, "instance/service-accounts/"); ok {
		acct, leaf, _ = strings.Cut(rest, "/")
		switch leaf {
		case "token":
			return OpGCEToken, acct, leaf
		case "email":
			return OpGCEEmail, acct, leaf
		case "scopes":
			return OpGCEScopes, acct, leaf
		}
		return OpGCEMetadata, acct, leaf
	}
	if strings.HasPrefix(suffix, "instance/attributes/") {
		return OpGCEAttribute, "", ""
	}
	return OpGCEMetadata, "", ""
}

func (g *GCP) serveMetadata(w http.ResponseWriter, r *http.Request, op, suffix, acct, leaf string) {
	g.mu.Lock()
	email := acct
	if acct == "default" {
		email = g.defaultSA
	}
	scopes, known := g.accounts[email]
	scopes = append([]string(nil), scopes...)
	attr, hasAttr := g.attributes[strings.TrimPrefix(suffix, "instance/attributes/")]
	var emails []string
	for e := range g.accounts {
		emails = append(emails, e)
	}
	g.mu.Unlock()
	notFound := func() { http.Error(w, "404 page not found", http.StatusNotFound) }
	switch op {
	case OpGCEToken, OpGCEEmail, OpGCEScopes:
		if !known || email == "" {
			notFound()
			return
		}
		switch op {
		case OpGCEEmail:
			_, _ = io.WriteString(w, email)
		case OpGCEScopes:
			if r.URL.Query().Get("alt") == "json" {
				writeJSON(w, scopes)
				return
			}
			_, _ = io.WriteString(w, strings.Join(scopes, "\n")+"\n")
		default:
			tok, exp := g.issue("gce:"+email, scopes, 0)
			w.Header().Set("Content-Type", "application/json")
			writeJSON(w, map[string]any{
				"access_token": tok, "expires_in": int(exp.Sub(g.now()).Seconds()), "token_type": "Bearer",
			})
		}
	case OpGCEAttribute:
		if !hasAttr {
			notFound()
			return
		}
		_, _ = io.WriteString(w, attr)
	default:
		switch {
		case suffix == "project/project-id":
			_, _ = io.WriteString(w, g.ProjectID)
		case suffix == "project/numeric-project-id":
			_, _ = io.WriteString(w, g.ProjectNumber)
		case suffix == "instance/service-accounts/" || suffix == "instance/service-accounts":
			var b strings.Builder
			if g.DefaultAccount() != "" {
				b.WriteString("default/\n")
			}
			for _, e := range emails {
				b.WriteString(e + "/\n")
			}
			_, _ = io.WriteString(w, b.String())
		default:
			// Includes universe/universe-domain: absent means googleapis.com.
			notFound()
		}
	}
}

// APIs serves the googleapis.com endpoints, routed by path so one handler
// serves every host (and endpoint overrides): STS `POST /v1/token`, IAM
// Credentials `POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken`
// and the OAuth 2.0 token endpoint (`POST /token`, `/oauth2/v4/token`).
func (g *GCP) APIs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case r.Method != http.MethodPost:
			googleStatus(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Only POST is served here.")
		case path == "/v1/token":
			g.serveSTS(w, r)
		case strings.HasPrefix(path, "/v1/projects/") && strings.HasSuffix(path, ":generateAccessToken"):
			g.serveGenerateAccessToken(w, r)
		case path == "/token" || path == "/oauth2/v4/token":
			g.serveOAuth2(w, r)
		default:
			googleStatus(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+path+" was not found on this server.")
		}
	})
}

// stsRequest is the token-exchange request, whether sent as a form
// (RFC 8693, the Google libraries) or as JSON (GKE's auth-provider-gcp).
type stsRequest struct {
	GrantType          string `json:"grantType"`
	Audience           string `json:"audience"`
	Scope              string `json:"scope"`
	RequestedTokenType string `json:"requestedTokenType"`
	SubjectToken       string `json:"subjectToken"`
	SubjectTokenType   string `json:"subjectTokenType"`
}

func (g *GCP) serveSTS(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // for an Echo fault
	var req stsRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format := "form"
	if ct == "application/json" {
		format = "json"
		if err := json.Unmarshal(body, &req); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed JSON body")
			return
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
			return
		}
		req = stsRequest{
			GrantType: form.Get("grant_type"), Audience: form.Get("audience"), Scope: form.Get("scope"),
			RequestedTokenType: form.Get("requested_token_type"), SubjectToken: form.Get("subject_token"),
			SubjectTokenType: form.Get("subject_token_type"),
		}
	}
	g.Record(Call{Op: OpGoogleSTS, Host: r.Host, Header: r.Header.Clone(), Form: map[string]string{
		"format": format, "grant_type": req.GrantType, "audience": req.Audience, "scope": req.Scope,
		"requested_token_type": req.RequestedTokenType, "subject_token": req.SubjectToken,
		"subject_token_type": req.SubjectTokenType,
	}})
	if g.ApplyRequest(OpGoogleSTS, w, r) {
		return
	}
	g.mu.Lock()
	trusted := g.audiences[req.Audience]
	g.mu.Unlock()
	switch {
	case req.GrantType != GrantTokenExchange:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be "+GrantTokenExchange)
		return
	case req.RequestedTokenType != TokenTypeAccessToken:
		oauthError(w, http.StatusBadRequest, "invalid_request", "requested_token_type must be "+TokenTypeAccessToken)
		return
	case req.Scope == "":
		oauthError(w, http.StatusBadRequest, "invalid_scope", "scope is required")
		return
	case !trusted:
		oauthError(w, http.StatusBadRequest, "invalid_target", `The target service indicated by the "audience" parameters is invalid. `+
			"This might either be because the pool or provider is disabled or deleted or because it doesn't exist.")
		return
	}
	subject, problem := g.checkSubject(req)
	if problem != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	tok, exp := g.issue("federated:"+req.Audience+":"+subject, strings.Fields(req.Scope), 0)
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, map[string]any{
		"access_token": tok, "issued_token_type": TokenTypeAccessToken, "token_type": "Bearer",
		"expires_in": int(exp.Sub(g.now()).Seconds()),
	})
}

// checkSubject validates the subject token as STS would (without the
// issuer's keys): a JWT must decode and be unexpired, an AWS request must be
// a signed GetCallerIdentity bound to the audience. It returns the subject
// or why the token is refused.
func (g *GCP) checkSubject(req stsRequest) (subject, problem string) {
	switch req.SubjectTokenType {
	case TokenTypeJWT, tokenTypeIDToken:
		claims, err := jwtClaims(req.SubjectToken)
		if err != nil {
			return "", "Unable to parse the ID Token."
		}
		sub, _ := claims["sub"].(string)
		exp, _ := claims["exp"].(float64)
		switch {
		case sub == "":
			return "", "The ID Token has no sub claim."
		case exp != 0 && !g.now().Before(time.Unix(int64(exp), 0)):
			return "", "ID Token expired."
		}
		return sub, ""
	case TokenTypeAWS:
		var aws struct {
			URL     string `json:"url"`
			Method  string `json:"method"`
			Headers []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"headers"`
		}
		raw, err := url.QueryUnescape(req.SubjectToken)
		if err != nil || json.Unmarshal([]byte(raw), &aws) != nil {
			return "", "The AWS subject token is not a serialized request."
		}
		var target, auth string
		for _, h := range aws.Headers {
			switch strings.ToLower(h.Key) {
			case "x-goog-cloud-target-resource":
				target = h.Value
			case "authorization":
				auth = h.Value
			}
		}
		switch {
		case !strings.Contains(aws.URL, "Action=GetCallerIdentity") || aws.Method != http.MethodPost:
			return "", "The AWS request is not a GetCallerIdentity call."
		case target != req.Audience:
			return "", "The AWS request is not bound to the audience."
		case !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 "):
			return "", "The AWS request is not signed."
		}
		akid, _, _, _ := sigV4Scope(auth)
		return "aws:" + akid, ""
	}
	return "", "Unsupported subject_token_type " + req.SubjectTokenType
}

func (g *GCP) serveGenerateAccessToken(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(r.URL.Path, ":generateAccessToken")
	email := name[strings.LastIndex(name, "/")+1:]
	var req struct {
		Scope     []string `json:"scope"`
		Lifetime  string   `json:"lifetime"`
		Delegates []string `json:"delegates"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	malformed := err != nil || json.Unmarshal(body, &req) != nil
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.Record(Call{Op: OpIAMGenerateAccessToken, Host: r.Host, Header: r.Header.Clone(), Form: map[string]string{
		"email": email, "scope": strings.Join(req.Scope, " "), "lifetime": req.Lifetime, "bearer": bearer,
	}})
	if g.ApplyRequest(OpIAMGenerateAccessToken, w, r) {
		return
	}
	_, authed := g.ValidAccessToken(bearer)
	g.mu.Lock()
	allowed := g.impersonable[email]
	g.mu.Unlock()
	if !authed {
		googleStatus(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. "+
			"Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	if !allowed {
		googleStatus(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).")
		return
	}
	if malformed || len(req.Scope) == 0 {
		googleStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		return
	}
	var life time.Duration
	if req.Lifetime != "" {
		life, err = time.ParseDuration(req.Lifetime)
		if err != nil || life <= 0 || life > 12*time.Hour {
			googleStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid lifetime "+req.Lifetime)
			return
		}
	}
	tok, exp := g.issue("sa:"+email, req.Scope, life)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	writeJSON(w, map[string]string{"accessToken": tok, "expireTime": exp.UTC().Format(time.RFC3339)})
}

func (g *GCP) serveOAuth2(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	form := formValues(r.PostForm)
	if u, p, ok := r.BasicAuth(); ok {
		form["client_id"], form["client_secret"] = u, p
	}
	g.Record(Call{Op: OpGoogleOAuth2, Host: r.Host, Header: r.Header.Clone(), Form: form})
	if g.ApplyRequest(OpGoogleOAuth2, w, r) {
		return
	}
	var identity string
	var scopes []string
	switch form["grant_type"] {
	case "refresh_token":
		g.mu.Lock()
		u, ok := g.refreshTokens[form["refresh_token"]]
		g.mu.Unlock()
		switch {
		case !ok:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Bad Request")
			return
		case u.clientID != form["client_id"] || u.clientSecret != form["client_secret"]:
			oauthError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
			return
		}
		identity, scopes = "user:"+u.clientID, strings.Fields(form["scope"])
	case grantJWTBearer:
		email, scope, problem := g.checkAssertion(form["assertion"])
		if problem != "" {
			oauthError(w, http.StatusBadRequest, "invalid_grant", problem)
			return
		}
		identity, scopes = "key:"+email, strings.Fields(scope)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+form["grant_type"])
		return
	}
	tok, exp := g.issue(identity, scopes, 0)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	writeJSON(w, map[string]any{
		"access_token": tok, "expires_in": int(exp.Sub(g.now()).Seconds()), "token_type": "Bearer",
		"scope": strings.Join(scopes, " "),
	})
}

// checkAssertion verifies a service-account key's RS256 JWT bearer
// assertion against the key it names.
func (g *GCP) checkAssertion(assertion string) (email, scope, problem string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "", "", "Invalid JWT: malformed"
	}
	var head struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	claims, err3 := jwtClaims(assertion)
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &head) != nil || head.Alg != "RS256" {
		return "", "", "Invalid JWT: malformed"
	}
	g.mu.Lock()
	key, known := g.keys[head.Kid]
	g.mu.Unlock()
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !known || rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest[:], sig) != nil {
		return "", "", "Invalid JWT Signature."
	}
	iss, _ := claims["iss"].(string)
	aud, _ := claims["aud"].(string)
	exp, _ := claims["exp"].(float64)
	scope, _ = claims["scope"].(string)
	switch {
	case iss != key.email:
		return "", "", "Invalid JWT: iss does not match the key"
	case aud != oauth2TokenURL:
		return "", "", "Invalid JWT: aud must be " + oauth2TokenURL
	case !g.now().Before(time.Unix(int64(exp), 0)):
		return "", "", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
	case scope == "":
		return "", "", "Invalid JWT: no scope"
	}
	return key.email, scope, ""
}

// oauthError writes an OAuth 2.0 error, the shape STS and the OAuth 2.0
// endpoint use.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	writeJSON(w, map[string]string{"error": code, "error_description": desc})
}

// googleStatus writes a Google API error (google.rpc.Status over JSON), the
// shape IAM Credentials uses.
func googleStatus(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
}
