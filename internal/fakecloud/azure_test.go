package fakecloud

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func startAzure(t *testing.T) (*Azure, *Proxy, *http.Client) {
	t.Helper()
	p, err := NewProxy()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	az := NewAzure()
	az.Install(p, "myreg.azurecr.io")
	return az, p, p.Client()
}

func TestProxyRefusesUnroutedHosts(t *testing.T) {
	_, _, c := startAzure(t)
	for _, u := range []string{"https://example.com/", "https://evilazurecr.io/v2/", "http://10.0.0.1/x"} {
		resp, err := c.Get(u)
		switch {
		case err != nil:
			// A refused CONNECT surfaces as a client error naming the status.
			if !strings.Contains(err.Error(), "Bad Gateway") {
				t.Errorf("GET %s: %v, want a 502 refusal", u, err)
			}
		case resp.StatusCode != http.StatusBadGateway:
			t.Errorf("GET %s: status %d, want 502", u, resp.StatusCode)
			resp.Body.Close()
		default:
			resp.Body.Close()
		}
	}
}

func TestAzureFullFlowThroughProxy(t *testing.T) {
	az, _, c := startAzure(t)

	// IMDS over plain HTTP (absolute-form through the proxy).
	req, _ := http.NewRequest("GET", "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net&client_id=abc", nil)
	req.Header.Set("Metadata", "true")
	var mi struct {
		AccessToken string `json:"access_token"`
		ExpiresOn   string `json:"expires_on"`
	}
	doJSON(t, c, req, http.StatusOK, &mi)
	if mi.AccessToken == "" || mi.ExpiresOn == "" {
		t.Fatalf("IMDS answer incomplete: %+v", mi)
	}

	// Challenge over TLS, with a certificate for the real host name.
	resp, err := c.Get("https://myreg.azurecr.io/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Www-Authenticate"); resp.StatusCode != 401 || got != `Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io"` {
		t.Fatalf("challenge: %d %q", resp.StatusCode, got)
	}

	exchange := func(tok string) (*http.Response, string) {
		form := url.Values{"grant_type": {"access_token"}, "service": {"myreg.azurecr.io"}, "tenant": {"t1"}, "access_token": {tok}}
		resp, err := c.PostForm("https://myreg.azurecr.io/oauth2/exchange?api-version=2021-07-01", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := exchange("forged"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged token: %d %s", resp.StatusCode, body)
	}
	resp, body := exchange(mi.AccessToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "refresh_token") {
		t.Fatalf("exchange: %d %s", resp.StatusCode, body)
	}
	calls := az.Calls(OpACRExchange)
	if len(calls) != 2 || calls[1].Form["identity"] != "mi:client_id=abc" || calls[1].Form["api-version"] != "2021-07-01" {
		t.Fatalf("recorded exchanges: %+v", calls)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := jsonUnmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if g, ok := az.ValidRefreshToken(out.RefreshToken); !ok || g.Registry != "myreg.azurecr.io" || g.Identity != "mi:client_id=abc" {
		t.Fatalf("ValidRefreshToken = %+v, %v", g, ok)
	}
	if _, ok := az.ValidRefreshToken(mi.AccessToken); ok {
		t.Fatal("an access token passed as a refresh token")
	}
}

func TestAzureEntraAndFaults(t *testing.T) {
	az, _, c := startAzure(t)
	var disc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	req, _ := http.NewRequest("GET", "https://login.chinacloudapi.cn/t1/v2.0/.well-known/openid-configuration", nil)
	doJSON(t, c, req, http.StatusOK, &disc)
	if disc.TokenEndpoint != "https://login.chinacloudapi.cn/t1/oauth2/v2.0/token" {
		t.Fatalf("token endpoint %q", disc.TokenEndpoint)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c1"}, "client_secret": {"s"}, "scope": {ACRScope}}
	req, _ = http.NewRequest("POST", disc.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	doJSON(t, c, req, http.StatusOK, &tok)
	if got := az.Calls(OpAzureToken)[0].Form["tenant"]; got != "t1" || tok.AccessToken == "" {
		t.Fatalf("tenant %q token %q", got, tok.AccessToken)
	}

	az.Inject(OpAzureToken, Fault{Status: 401, Body: `{"error":"invalid_client"}`, Times: 1})
	req, _ = http.NewRequest("POST", disc.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	doJSON(t, c, req, http.StatusUnauthorized, nil)

	az.SetChallenge("myreg.azurecr.io", "Bearer realm=x")
	resp, err := c.Get("https://myreg.azurecr.io/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Www-Authenticate"); got != "Bearer realm=x" {
		t.Fatalf("override challenge %q", got)
	}
}

func doJSON(t *testing.T, c *http.Client, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := jsonUnmarshal(string(b), out); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
