package fakecloud

import (
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operations recorded by the Azure emulator.
const (
	OpAzureIMDS      = "azure:imds-token"
	OpAzureAppMI     = "azure:appservice-token"
	OpAzureDiscovery = "azure:openid-configuration"
	OpAzureToken     = "azure:entra-token"
	OpACRChallenge   = "acr:challenge"
	OpACRExchange    = "acr:exchange"
)

// ACRScope is the Entra scope of an access token ACR accepts.
const ACRScope = "https://containerregistry.azure.net/.default"

// Azure emulates the Azure endpoints of an ACR pull: the IMDS managed
// identity endpoint, the Entra ID (login.microsoftonline.com and sovereign
// equivalents) token endpoint, and the token side of ACR registries
// (`GET /v2/` challenge, `POST /oauth2/exchange`). Every access token and
// refresh token it issues is remembered, so the exchange only accepts tokens
// this emulator issued and a test registry can check a refresh token with
// ValidRefreshToken.
type Azure struct {
	Recorder
	Faults

	// AccessTTL is the lifetime of issued Entra access tokens (default 1h).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of issued ACR refresh tokens (default 3h).
	RefreshTTL time.Duration

	key []byte

	mu         sync.Mutex
	access     map[string]string // access token → identity
	refresh    map[string]RefreshGrant
	challenges map[string]string // registry host → Www-Authenticate override
}

// RefreshGrant is what an issued ACR refresh token stands for.
type RefreshGrant struct {
	// Registry is the login server it was issued for.
	Registry string
	// Identity describes the Entra identity exchanged, e.g. "mi:system",
	// "mi:client_id=ID", "sp:TENANT/CLIENT:secret".
	Identity string
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
}

// NewAzure returns an Azure emulator with default lifetimes.
func NewAzure() *Azure {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Azure{
		AccessTTL:  time.Hour,
		RefreshTTL: 3 * time.Hour,
		key:        key,
		access:     map[string]string{},
		refresh:    map[string]RefreshGrant{},
		challenges: map[string]string{},
	}
}

// AuthorityHosts are the Entra ID hosts of the public, China and US
// Government clouds.
var AuthorityHosts = []string{
	"login.microsoftonline.com",
	"login.chinacloudapi.cn",
	"login.microsoftonline.us",
}

// IMDSHost is the Azure instance metadata address.
const IMDSHost = "169.254.169.254"

// Install routes IMDS, every authority host and the given registry hosts
// through p.
func (a *Azure) Install(p *Proxy, registries ...string) {
	p.Route(IMDSHost, a.IMDS())
	for _, h := range AuthorityHosts {
		p.Route(h, a.Entra())
	}
	for _, r := range registries {
		p.Route(r, a.Registry())
	}
}

// SetChallenge makes registry host answer `GET /v2/` with this
// Www-Authenticate value (malformed challenges); "" restores the default.
func (a *Azure) SetChallenge(host, header string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if header == "" {
		delete(a.challenges, host)
		return
	}
	a.challenges[host] = header
}

// ValidRefreshToken reports whether tok is an unexpired ACR refresh token
// this emulator issued, and what it was issued for.
func (a *Azure) ValidRefreshToken(tok string) (RefreshGrant, bool) {
	a.mu.Lock()
	g, ok := a.refresh[tok]
	a.mu.Unlock()
	if !ok || time.Now().After(g.ExpiresAt) {
		return RefreshGrant{}, false
	}
	return g, true
}

// IMDS serves `GET /metadata/identity/oauth2/token` as Azure IMDS does.
func (a *Azure) IMDS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a.Record(Call{Op: OpAzureIMDS, Host: r.Host, Header: r.Header.Clone(), Form: formValues(q)})
		if a.Apply(OpAzureIMDS, w) {
			return
		}
		if r.URL.Path != "/metadata/identity/oauth2/token" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Metadata") != "true" {
			azureJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Required metadata header not specified"})
			return
		}
		resource := q.Get("resource")
		if resource == "" {
			azureJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Required audience parameter not specified"})
			return
		}
		id := "mi:system"
		switch {
		case q.Get("client_id") != "":
			id = "mi:client_id=" + q.Get("client_id")
		case q.Get("msi_res_id") != "":
			id = "mi:msi_res_id=" + q.Get("msi_res_id")
		case q.Get("object_id") != "":
			id = "mi:object_id=" + q.Get("object_id")
		}
		tok, exp := a.issueAccess(id, resource)
		azureJSON(w, http.StatusOK, map[string]string{
			"access_token": tok,
			"expires_in":   strconv.Itoa(int(time.Until(exp).Seconds())),
			"expires_on":   strconv.FormatInt(exp.Unix(), 10),
			"resource":     resource,
			"token_type":   "Bearer",
		})
	})
}

// AppServiceIdentity serves the App Service / Functions managed identity
// endpoint (IDENTITY_ENDPOINT, api-version 2019-08-01), which requires the
// X-IDENTITY-HEADER secret the platform puts in IDENTITY_HEADER.
func (a *Azure) AppServiceIdentity(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a.Record(Call{Op: OpAzureAppMI, Host: r.Host, Header: r.Header.Clone(), Form: formValues(q)})
		if a.Apply(OpAzureAppMI, w) {
			return
		}
		if r.Header.Get("X-IDENTITY-HEADER") != secret {
			azureJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "bad X-IDENTITY-HEADER"})
			return
		}
		if q.Get("api-version") != "2019-08-01" || q.Get("resource") == "" {
			azureJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "api-version 2019-08-01 and resource required"})
			return
		}
		id := "mi:system"
		switch {
		case q.Get("client_id") != "":
			id = "mi:client_id=" + q.Get("client_id")
		case q.Get("mi_res_id") != "":
			id = "mi:msi_res_id=" + q.Get("mi_res_id")
		}
		tok, exp := a.issueAccess(id, q.Get("resource"))
		azureJSON(w, http.StatusOK, map[string]string{
			"access_token": tok,
			"expires_on":   strconv.FormatInt(exp.Unix(), 10),
			"resource":     q.Get("resource"),
			"token_type":   "Bearer",
		})
	})
}

// Entra serves the Entra ID endpoints azidentity uses with instance
// discovery disabled: `GET /{tenant}/v2.0/.well-known/openid-configuration`
// and `POST /{tenant}/oauth2/v2.0/token` (client credentials with a secret or
// a client assertion).
func (a *Azure) Entra() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		host := r.Host
		switch {
		case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
			a.Record(Call{Op: OpAzureDiscovery, Host: host, Header: r.Header.Clone(), Form: map[string]string{"tenant": parts[0]}})
			if a.Apply(OpAzureDiscovery, w) {
				return
			}
			base := "https://" + host + "/" + parts[0]
			azureJSON(w, http.StatusOK, map[string]any{
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer":                 base + "/v2.0",
			})
		case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && r.Method == http.MethodPost:
			a.entraToken(w, r, parts[0])
		default:
			http.NotFound(w, r)
		}
	})
}

func (a *Azure) entraToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := formValues(r.PostForm)
	form["tenant"] = tenant
	a.Record(Call{Op: OpAzureToken, Host: r.Host, Header: r.Header.Clone(), Form: form})
	if a.Apply(OpAzureToken, w) {
		return
	}
	fail := func(code, desc string) {
		azureJSON(w, http.StatusBadRequest, map[string]any{"error": code, "error_description": desc, "error_codes": []int{7000215}})
	}
	if form["grant_type"] != "client_credentials" {
		fail("unsupported_grant_type", "only client_credentials is emulated")
		return
	}
	var method string
	switch {
	case form["client_secret"] != "":
		method = "secret"
	case form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && form["client_assertion"] != "":
		method = "assertion"
	default:
		fail("invalid_client", "no client secret or client assertion")
		return
	}
	if form["client_id"] == "" {
		fail("invalid_request", "client_id missing")
		return
	}
	scope := form["scope"]
	resource := strings.TrimSuffix(strings.Fields(scope + " x")[0], "/.default")
	tok, exp := a.issueAccess("sp:"+tenant+"/"+form["client_id"]+":"+method, resource)
	azureJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(time.Until(exp).Seconds()),
		"ext_expires_in": int(time.Until(exp).Seconds()),
		"access_token":   tok,
	})
}

// Registry serves an ACR login server's token side: `GET /v2/` answers 401
// with a Bearer challenge whose realm is on the same host, and
// `POST /oauth2/exchange` trades an access token this emulator issued (for
// the ACR resource) for a refresh token.
func (a *Azure) Registry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		switch {
		case r.URL.Path == "/v2/" || r.URL.Path == "/v2":
			a.Record(Call{Op: OpACRChallenge, Host: r.Host, Header: r.Header.Clone()})
			if a.Apply(OpACRChallenge, w) {
				return
			}
			a.mu.Lock()
			ch, ok := a.challenges[host]
			a.mu.Unlock()
			if !ok {
				ch = `Bearer realm="https://` + host + `/oauth2/token",service="` + host + `"`
			}
			w.Header().Set("Www-Authenticate", ch)
			azureJSON(w, http.StatusUnauthorized, acrErrors("UNAUTHORIZED", "authentication required"))
		case r.URL.Path == "/oauth2/exchange" && r.Method == http.MethodPost:
			a.exchange(w, r, host)
		default:
			http.NotFound(w, r)
		}
	})
}

func (a *Azure) exchange(w http.ResponseWriter, r *http.Request, host string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := formValues(r.PostForm)
	form["api-version"] = r.URL.Query().Get("api-version")
	a.mu.Lock()
	id, issued := a.access[form["access_token"]]
	a.mu.Unlock()
	form["identity"] = id
	a.Record(Call{Op: OpACRExchange, Host: r.Host, Header: r.Header.Clone(), Form: form})
	if a.Apply(OpACRExchange, w) {
		return
	}
	switch {
	case form["grant_type"] != "access_token":
		azureJSON(w, http.StatusBadRequest, acrErrors("BAD_REQUEST", "unsupported grant_type"))
	case form["service"] != host:
		azureJSON(w, http.StatusBadRequest, acrErrors("BAD_REQUEST", "service does not match the registry"))
	case !issued:
		azureJSON(w, http.StatusUnauthorized, acrErrors("UNAUTHORIZED", "invalid access token"))
	default:
		exp := time.Now().Add(a.RefreshTTL).Truncate(time.Second)
		tok := a.sign(map[string]any{
			"iss": "Azure Container Registry", "aud": host, "exp": exp.Unix(),
			"iat": time.Now().Unix(), "grant_type": "refresh_token", "tenant": form["tenant"],
		})
		a.mu.Lock()
		a.refresh[tok] = RefreshGrant{Registry: host, Identity: id, ExpiresAt: exp}
		a.mu.Unlock()
		azureJSON(w, http.StatusOK, map[string]string{"refresh_token": tok})
	}
}

// issueAccess mints an Entra access token for identity and resource. Only
// tokens for the ACR resource are remembered for the exchange.
func (a *Azure) issueAccess(identity, resource string) (string, time.Time) {
	exp := time.Now().Add(a.AccessTTL).Truncate(time.Second)
	tok := a.sign(map[string]any{"aud": resource, "sub": identity, "exp": exp.Unix()})
	if strings.TrimSuffix(resource, "/") == strings.TrimSuffix(ACRScope, "/.default") {
		a.mu.Lock()
		a.access[tok] = identity
		a.mu.Unlock()
	}
	return tok, exp
}

// sign makes a JWT with the emulator's key.
func (a *Azure) sign(claims map[string]any) string { return signJWT(a.key, claims) }

func acrErrors(code, msg string) map[string]any {
	return map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}}
}

func azureJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func formValues(v map[string][]string) map[string]string {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
