package ocir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
	"github.com/kcred/kcred/tokencache"
)

// Username is the docker login name of an OCIR bearer token.
const Username = "BEARER_TOKEN"

// tokenAnswer is the docker-token endpoint's JSON.
type tokenAnswer struct {
	Token       string   `json:"token"`
	AccessToken string   `json:"access_token"`
	ExpiresIn   *float64 `json:"expires_in"`
}

// tokenURL is where the token of registry is asked for: the registry exactly
// as the kubelet sent it (port kept), under the configured protocol and path.
func tokenURL(cfg Config, registry string) string {
	return cfg.Protocol + "://" + registry + cfg.TokenPath
}

// fetchToken makes the OCI-signed GET of the docker token and checks its
// answer: the HTTP status first (upstream read an error body as an empty
// password), then the JSON. A failed attempt that may be transient (5xx,
// 429, network) is tried once more while ctx allows.
func fetchToken(ctx context.Context, client *http.Client, kp common.KeyProvider, u, principal string) (tokencache.Token, error) {
	what := "get the OCIR token from " + u
	var last error
	for attempt := 0; attempt < 2; attempt++ {
		tok, retry, err := fetchTokenOnce(ctx, client, kp, u, principal)
		if err == nil {
			return tok, nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return tokencache.Token{}, &plugin.Error{What: what, Err: last}
}

func fetchTokenOnce(ctx context.Context, client *http.Client, kp common.KeyProvider, u, principal string) (tok tokencache.Token, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return tok, false, fmt.Errorf("not a URL: check %s and %s", envProtocol, envTokenPath)
	}
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("Accept", "application/json")
	if err := common.DefaultRequestSigner(kp).Sign(req); err != nil {
		return tok, false, &plugin.Error{What: "sign the request", Err: errors.New(firstLine(err.Error()))}
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return tok, !cloudtoken.IsTimeout(err), &callError{msg: describeCallError(err), cause: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return tok, false, &callError{msg: "reading the answer: " + describeCallError(err), cause: err}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return tok, false, &plugin.Error{What: "OCIR answered " + resp.Status + ociMessage(body), Check: deniedHint(principal)}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return tok, true, &plugin.Error{What: "OCIR answered " + resp.Status + ociMessage(body),
			Check: "OCIR or a proxy in front of it failed: retry later, and check HTTPS_PROXY/NO_PROXY"}
	case resp.StatusCode != http.StatusOK:
		return tok, false, &plugin.Error{What: "OCIR answered " + resp.Status + ociMessage(body),
			Check: "check " + envTokenPath + ", normally " + DefaultTokenPath + ", and " + envProtocol}
	}
	tok, err = decodeToken(body, start)
	return tok, false, err
}

// decodeToken reads the docker-token JSON: the token (or access_token) is
// the password; expires_in, counted from start, the expiry (none: the
// driver's default lifetime).
func decodeToken(body []byte, start time.Time) (tokencache.Token, error) {
	var a tokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return tokencache.Token{}, cloudtoken.Malformed("the answer is not the token JSON")
	}
	password := a.Token
	if password == "" {
		password = a.AccessToken
	}
	if password == "" {
		return tokencache.Token{}, cloudtoken.Malformed("the answer holds no token")
	}
	tok := tokencache.Token{Username: Username, Password: password}
	if a.ExpiresIn != nil {
		life, err := cloudtoken.Seconds(*a.ExpiresIn)
		if err != nil {
			return tokencache.Token{}, err
		}
		tok.ExpiresAt = start.Add(life)
	}
	return tok, nil
}

// deniedHint says what to check when OCIR refuses the principal.
func deniedHint(principal string) string {
	if principal == string(UserPrincipal) {
		return "check the API key: user, fingerprint and key_file in the OCI config, the key uploaded to that user, and a policy letting the user's group 'read repos'"
	}
	return "check that a dynamic group matches this instance and that a policy allows it, e.g. 'Allow dynamic-group <group> to read repos in tenancy'"
}

// validationLifetime is how long an answer lives when token validation finds
// the token refused, so that a fixed IAM policy is picked up soon.
const validationLifetime = 2 * time.Minute

// validate reads the image's manifest with the token, as upstream's
// TOKEN_VALIDATION does: 200 or 404 means the token works. Anything else
// (typically 403 while the IAM policy is missing) shortens the answer's
// lifetime to validationLifetime and says so; it is not an error, since the
// token is what OCIR issued.
func validate(ctx context.Context, client *http.Client, log logger, cfg Config, registry, image string, tok tokencache.Token) tokencache.Token {
	repo, ref := repositoryAndReference(registry, image)
	if repo == "" {
		log.Info("token validation skipped: no repository in the image", "image", plugin.Quote(image))
		return tok
	}
	u := cfg.Protocol + "://" + registry + "/v2/" + repo + "/manifests/" + ref
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		log.Info("token validation skipped: the image makes no URL", "image", plugin.Quote(image))
		return tok
	}
	req.Header.Set("Authorization", "Bearer "+tok.Password)
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	status := "no answer"
	resp, err := client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound {
			log.Info("token validation: the token works", "url", u, "status", resp.StatusCode)
			return tok
		}
		status = resp.Status
	} else {
		status = describeCallError(err)
	}
	// The kubelet and the node cache serve an answer until ExpiresAt minus
	// the margin: claim an expiry that leaves validationLifetime of it.
	short := time.Now().Add(plugin.Margin + validationLifetime)
	if short.Before(tok.ExpiresAt) || tok.ExpiresAt.IsZero() {
		tok.ExpiresAt = short
	}
	log.Info("token validation: the token was refused; answering it for 2 minutes only, so that a fixed IAM policy is picked up soon",
		"url", u, "status", status, "check", deniedHint(string(cfg.Auth)))
	return tok
}

// logger is the part of slog.Logger validation uses.
type logger interface {
	Info(msg string, args ...any)
}

// repositoryAndReference splits an image as the kubelet sends it
// (registry/repo[:tag][@digest]) into the repository path and the manifest
// reference: the digest when present, else the tag, else "latest".
func repositoryAndReference(registry, image string) (repo, ref string) {
	rest, ok := strings.CutPrefix(image, registry+"/")
	if !ok {
		return "", ""
	}
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		rest, ref = name, digest
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		if ref == "" {
			ref = rest[i+1:]
		}
		rest = rest[:i]
	}
	if rest == "" {
		return "", ""
	}
	if ref == "" {
		ref = "latest"
	}
	return rest, ref
}
