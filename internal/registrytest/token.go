package registrytest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/registry/auth/token"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenIssuer is the iss claim of registry tokens; the registry trusts no
// other.
const tokenIssuer = "registrytest-token-server"

// tokenServer issues RS256 registry tokens (the Docker token protocol) that
// distribution's token authentication verifies against its JWKS.
type tokenServer struct {
	signer  jose.Signer
	jwks    []byte
	service string
	ttl     time.Duration
}

func newTokenServer(service string, ttl time.Duration) (*tokenServer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("registrytest: generate token signing key: %w", err)
	}
	kid := rand.Text()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("registrytest: token signer: %w", err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
	}})
	if err != nil {
		return nil, fmt.Errorf("registrytest: encode JWKS: %w", err)
	}
	return &tokenServer{signer: signer, jwks: jwks, service: service, ttl: ttl}, nil
}

// authParameters is the registry's token authentication configuration for
// a JWKS stored at jwksPath. The realm is derived from each request's Host
// (autoredirect), so the challenge points at whatever name the client used:
// 127.0.0.1:port or a cloud host name behind a proxy.
func (ts *tokenServer) authParameters(jwksPath string) map[string]any {
	return map[string]any{
		"realm":             "unused: autoredirect builds it from the request",
		"autoredirect":      true,
		"autoredirectpath":  TokenPath,
		"service":           ts.service,
		"issuer":            tokenIssuer,
		"jwks":              jwksPath,
		"signingalgorithms": []any{string(jose.RS256)},
	}
}

// serve answers the token endpoint as ACR does: GET with Basic credentials
// (docker, go-containerregistry, containerd's fallback) or POST
// grant_type=refresh_token (containerd with an identity token,
// go-containerregistry with IdentityToken). POST grant_type=password is
// refused with 400, as ACR does; containerd then falls back to GET.
func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request, acceptBasic func(user, pass string) bool, acceptRefresh func(string) bool) {
	var (
		subject string
		scopes  []string
		service string
	)
	switch r.Method {
	case http.MethodGet:
		user, pass, ok := r.BasicAuth()
		if !ok || !acceptBasic(user, pass) {
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
		subject = user
		scopes = r.URL.Query()["scope"]
		service = r.URL.Query().Get("service")
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "UNSUPPORTED", "malformed form")
			return
		}
		switch r.PostForm.Get("grant_type") {
		case "refresh_token":
			if !acceptRefresh(r.PostForm.Get("refresh_token")) {
				writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid refresh token")
				return
			}
		default:
			writeError(w, http.StatusBadRequest, "UNSUPPORTED", "unsupported grant_type")
			return
		}
		subject = ACRUser
		scopes = r.PostForm["scope"]
		service = r.PostForm.Get("service")
	default:
		writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed")
		return
	}
	if service != ts.service {
		writeError(w, http.StatusBadRequest, "UNSUPPORTED", fmt.Sprintf("unknown service %q", service))
		return
	}
	jwt, err := ts.issue(subject, parseScopes(scopes), time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": jwt,
		"expires_in":   int(ts.ttl.Seconds()),
	})
}

// issue signs a registry token granting access to subject, valid from now
// for the server's TTL.
func (ts *tokenServer) issue(subject string, access []*token.ResourceActions, now time.Time) (string, error) {
	claims := token.ClaimSet{
		Issuer:     tokenIssuer,
		Subject:    subject,
		Audience:   token.AudienceList{ts.service},
		Expiration: now.Add(ts.ttl).Unix(),
		NotBefore:  now.Unix(),
		IssuedAt:   now.Unix(),
		JWTID:      rand.Text(),
		Access:     access,
	}
	raw, err := jwt.Signed(ts.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("registrytest: sign token: %w", err)
	}
	return raw, nil
}

// parseScopes reads Docker token scopes ("repository:name:pull,push"; a
// value may hold several separated by spaces) and grants every requested
// action: the credential was accepted, so it may do anything.
func parseScopes(values []string) []*token.ResourceActions {
	var out []*token.ResourceActions
	for _, v := range values {
		for _, s := range strings.Fields(v) {
			typ, rest, ok := strings.Cut(s, ":")
			i := strings.LastIndex(rest, ":")
			if !ok || i < 0 {
				continue
			}
			class := ""
			if j := strings.IndexByte(typ, '('); j >= 0 && strings.HasSuffix(typ, ")") {
				typ, class = typ[:j], typ[j+1:len(typ)-1]
			}
			out = append(out, &token.ResourceActions{
				Type:    typ,
				Class:   class,
				Name:    rest[:i],
				Actions: strings.Split(rest[i+1:], ","),
			})
		}
	}
	return out
}

// writeError writes a registry API error body, which clients parse.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": code, "message": msg}},
	})
}
