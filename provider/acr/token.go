package acr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/containers/azcontainerregistry"

	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
)

// Scope is the Entra ID scope of tokens ACR accepts, in every cloud.
const Scope = "https://containerregistry.azure.net/.default"

// NullGUID is the username ACR expects with a refresh token as password.
const NullGUID = "00000000-0000-0000-0000-000000000000"

// challenge is a registry's Bearer Www-Authenticate challenge.
type challenge struct {
	Realm   string
	Service string
}

// parseChallenge parses one Www-Authenticate value of scheme Bearer, with
// quoted (escapes allowed) or unquoted parameter values, in any order.
func parseChallenge(h string) (challenge, error) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return challenge{}, fmt.Errorf("challenge scheme %q is not Bearer", trunc(scheme))
	}
	params := map[string]string{}
	s := rest
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return challenge{}, fmt.Errorf("challenge parameter %q has no value", trunc(s))
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(s); i++ {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return challenge{}, fmt.Errorf("challenge parameter %s has an unterminated quoted value", key)
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
	c := challenge{Realm: params["realm"], Service: params["service"]}
	if c.Realm == "" || c.Service == "" {
		return challenge{}, errors.New("challenge lacks a realm or a service")
	}
	return c, nil
}

// trunc bounds untrusted text quoted in errors.
func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// getChallenge asks the registry for its token challenge (`GET /v2/`, which
// must answer 401) and checks that the realm is an https URL on the registry
// itself, so that an Entra token never goes to another host.
func getChallenge(ctx context.Context, client *http.Client, registry string) (challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+registry+"/v2/", nil)
	if err != nil {
		return challenge{}, err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return challenge{}, &plugin.Error{What: "GET https://" + registry + "/v2/", Err: err, Check: netHint(registry)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusUnauthorized {
		return challenge{}, &plugin.Error{What: "GET https://" + registry + "/v2/", Err: fmt.Errorf("answered HTTP %d, want 401 with a Bearer challenge", resp.StatusCode), Check: "is " + registry + " an Azure Container Registry?"}
	}
	var firstErr error
	for _, v := range resp.Header.Values("Www-Authenticate") {
		c, err := parseChallenge(v)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		u, err := url.Parse(c.Realm)
		if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Hostname(), registry) {
			firstErr = cmpErr(firstErr, fmt.Errorf("challenge realm %q is not an https URL on %s", trunc(c.Realm), registry))
			continue
		}
		return c, nil
	}
	if firstErr == nil {
		firstErr = errors.New("no Www-Authenticate header")
	}
	return challenge{}, &plugin.Error{What: "GET https://" + registry + "/v2/", Err: cloudtoken.Malformed("malformed challenge: %v", firstErr), Check: "check that " + registry + " is an Azure Container Registry and that no proxy rewrites its answers"}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// exchange trades an Entra access token for an ACR refresh token with
// `POST /oauth2/exchange` (grant_type=access_token, the current grant; the
// access_token_refresh_token grant upstream sends is deprecated).
func exchange(ctx context.Context, opts azcore.ClientOptions, registry string, ch challenge, tenant, accessToken string) (string, error) {
	what := "exchange at https://" + registry + "/oauth2/exchange"
	client, err := azcontainerregistry.NewAuthenticationClient("https://"+registry, &azcontainerregistry.AuthenticationClientOptions{ClientOptions: opts})
	if err != nil {
		return "", &plugin.Error{What: "exchange at https://" + registry + "/oauth2/exchange", Err: err, Check: "check the registry name"}
	}
	o := &azcontainerregistry.AuthenticationClientExchangeAADAccessTokenForACRRefreshTokenOptions{AccessToken: &accessToken}
	if tenant != "" {
		o.Tenant = &tenant
	}
	resp, err := client.ExchangeAADAccessTokenForACRRefreshToken(ctx, azcontainerregistry.PostContentSchemaGrantTypeAccessToken, ch.Service, o)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			// Only status and code: the body is untrusted and unbounded.
			return "", &plugin.Error{What: what, Err: fmt.Errorf("HTTP %d %s", re.StatusCode, trunc(re.ErrorCode)), Check: "check that the identity has the AcrPull role on the registry"}
		}
		if cloudtoken.IsNetwork(err) {
			return "", &plugin.Error{What: what, Err: errors.New(firstLine(err.Error())), Check: netHint(registry)}
		}
		if httpbound.IsTooLarge(err) {
			return "", &plugin.Error{What: what, Err: httpbound.ErrTooLarge, Check: "check that " + registry + " is an Azure Container Registry and that no proxy rewrites its answers"}
		}
		// Most often an answer that is not JSON: its text may be anything,
		// so it is not quoted.
		return "", &plugin.Error{What: what, Err: cloudtoken.Malformed("malformed answer, not an ACR token exchange response"), Check: "check that " + registry + " is an Azure Container Registry and that no proxy rewrites its answers"}
	}
	if resp.RefreshToken == nil || *resp.RefreshToken == "" {
		return "", &plugin.Error{What: what, Err: cloudtoken.Malformed("no refresh_token in the answer"), Check: "check that " + registry + " is an Azure Container Registry and that no proxy rewrites its answers"}
	}
	return *resp.RefreshToken, nil
}

// netHint is what to check when a registry cannot be reached.
func netHint(registry string) string {
	return "check that the node reaches " + registry + " on port 443 (DNS, firewall), HTTPS_PROXY/NO_PROXY and, for TLS errors, SSL_CERT_FILE"
}
