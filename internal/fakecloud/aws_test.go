package fakecloud

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func awsDo(t *testing.T, method, u string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signed returns the headers of an ECR call to u (target, body "{}")
// signed by the AWS SDK's SigV4 signer with akid/secret (and session).
func signed(t *testing.T, u, target, akid, secret, session, region, service string) map[string]string {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte("{}"))
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: session}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	h := map[string]string{}
	for k := range req.Header {
		h[k] = req.Header.Get(k)
	}
	return h
}

// sigv4 is an Authorization header with a made-up signature.
func sigv4(akid, region, service string) string {
	return "AWS4-HMAC-SHA256 Credential=" + akid + "/20261204/" + region + "/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
}

func ecrHeaders(target, auth, session string) map[string]string {
	h := map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1", "Authorization": auth}
	if session != "" {
		h["X-Amz-Security-Token"] = session
	}
	return h
}

// ecrPassword decodes the authorizationToken of an ECR answer.
func ecrPassword(t *testing.T, token string) (user, pass string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token not base64: %v", err)
	}
	user, pass, _ = strings.Cut(string(raw), ":")
	return user, pass
}

func TestAWSIMDSv2(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	if resp, _ := awsDo(t, "GET", srv.URL+"/latest/meta-data/iam/security-credentials/", nil, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("role without IMDSv2 token: status %d, want 401", resp.StatusCode)
	}
	resp, tok := awsDo(t, "PUT", srv.URL+"/latest/api/token", map[string]string{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": "300"}, "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "300" {
		t.Fatalf("token: status %d, TTL echo %q", resp.StatusCode, resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
	}
	h := map[string]string{"X-Aws-Ec2-Metadata-Token": tok}
	if _, role := awsDo(t, "GET", srv.URL+"/latest/meta-data/iam/security-credentials/", h, ""); role != a.RoleName {
		t.Fatalf("role = %q, want %q", role, a.RoleName)
	}
	_, body := awsDo(t, "GET", srv.URL+"/latest/meta-data/iam/security-credentials/"+a.RoleName, h, "")
	var creds struct{ Code, AccessKeyId, SecretAccessKey, Token, Expiration string }
	if err := json.Unmarshal([]byte(body), &creds); err != nil || creds.Code != "Success" || creds.AccessKeyId == "" {
		t.Fatalf("credentials = %s (%v)", body, err)
	}
	if _, err := time.Parse(time.RFC3339, creds.Expiration); err != nil {
		t.Fatalf("Expiration %q: %v", creds.Expiration, err)
	}
	_, doc := awsDo(t, "GET", srv.URL+"/latest/dynamic/instance-identity/document", h, "")
	if !strings.Contains(doc, `"region":"eu-west-3"`) {
		t.Fatalf("identity document = %s", doc)
	}

	// The IMDS-issued key, with its session token, signs ECR calls.
	resp, body = awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, creds.AccessKeyId, creds.SecretAccessKey, creds.Token, "eu-west-3", "ecr"), "{}")
	if resp.StatusCode != 200 {
		t.Fatalf("ECR with IMDS key: %d %s", resp.StatusCode, body)
	}
	resp, _ = awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, creds.AccessKeyId, creds.SecretAccessKey, "wrong", "eu-west-3", "ecr"), "{}")
	if resp.StatusCode != 400 {
		t.Fatalf("ECR with a wrong session token: status %d, want 400", resp.StatusCode)
	}
	if got := a.Count(OpIMDSToken) + a.Count(OpIMDSRole) + a.Count(OpIMDSCredentials) + a.Count(OpIMDSDocument); got != 5 {
		t.Errorf("IMDS calls recorded = %d, want 5", got)
	}
}

func TestAWSContainerCredentials(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	env := strings.Join(a.ContainerEnv(srv.URL), " ")
	if !strings.Contains(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+srv.URL+containerCredsPath) {
		t.Fatalf("ContainerEnv = %s", env)
	}
	if resp, _ := awsDo(t, "GET", srv.URL+containerCredsPath, map[string]string{"Authorization": "wrong"}, ""); resp.StatusCode != 403 {
		t.Fatalf("wrong token: status %d, want 403", resp.StatusCode)
	}
	_, body := awsDo(t, "GET", srv.URL+containerCredsPath, map[string]string{"Authorization": a.ContainerToken}, "")
	var creds struct{ AccessKeyId, SecretAccessKey, Token string }
	if err := json.Unmarshal([]byte(body), &creds); err != nil || creds.AccessKeyId == "" {
		t.Fatalf("credentials = %s (%v)", body, err)
	}
	if resp, body := awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, creds.AccessKeyId, creds.SecretAccessKey, creds.Token, "eu-west-3", "ecr"), "{}"); resp.StatusCode != 200 {
		t.Fatalf("ECR with container key: %d %s", resp.StatusCode, body)
	}
}

func TestAWSECR(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	resp, body := awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr"), "{}")
	if resp.StatusCode != 200 {
		t.Fatalf("ECR: %d %s", resp.StatusCode, body)
	}
	var priv struct {
		AuthorizationData []struct {
			AuthorizationToken string  `json:"authorizationToken"`
			ExpiresAt          float64 `json:"expiresAt"`
			ProxyEndpoint      string  `json:"proxyEndpoint"`
		} `json:"authorizationData"`
	}
	if err := json.Unmarshal([]byte(body), &priv); err != nil || len(priv.AuthorizationData) != 1 {
		t.Fatalf("ECR answer %s: %v", body, err)
	}
	d := priv.AuthorizationData[0]
	if life := time.Until(time.Unix(int64(d.ExpiresAt), 0)); life < 11*time.Hour || life > 12*time.Hour {
		t.Errorf("token lifetime %s, want about 12h", life)
	}
	if !strings.Contains(d.ProxyEndpoint, ".dkr.ecr.eu-west-1.amazonaws.com") {
		t.Errorf("proxyEndpoint = %q", d.ProxyEndpoint)
	}
	user, pass := ecrPassword(t, d.AuthorizationToken)
	if !a.ValidCredential(user, pass) {
		t.Errorf("ValidCredential(%q, issued password) = false", user)
	}
	if a.ValidCredential(user, pass+"x") || a.ValidCredential("other", pass) {
		t.Error("ValidCredential accepted a credential it did not issue")
	}
	if c := a.Calls(OpECRToken); len(c) != 1 || c[0].Form["akid"] != a.StaticKeyID || c[0].Form["region"] != "eu-west-1" || c[0].Form["service"] != "ecr" {
		t.Errorf("recorded calls = %+v", c)
	}

	// ECR Public: signing name ecr-public, authorizationData an object.
	resp, body = awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrPublicTarget, a.StaticKeyID, a.StaticSecret, "", "us-east-1", "ecr-public"), "{}")
	var pub struct {
		AuthorizationData struct {
			AuthorizationToken string  `json:"authorizationToken"`
			ExpiresAt          float64 `json:"expiresAt"`
		} `json:"authorizationData"`
	}
	if err := json.Unmarshal([]byte(body), &pub); err != nil || resp.StatusCode != 200 || pub.AuthorizationData.AuthorizationToken == "" {
		t.Fatalf("ECR Public answer %d %s: %v", resp.StatusCode, body, err)
	}

	for name, auth := range map[string]string{
		"unsigned":         "",
		"unknown key":      sigv4("AKIAUNKNOWN", "eu-west-1", "ecr"),
		"wrong signing":    sigv4(a.StaticKeyID, "eu-west-1", "ecr-public"),
		"malformed header": "AWS4-HMAC-SHA256 Credential=broken",
	} {
		if resp, body := awsDo(t, "POST", srv.URL+"/", ecrHeaders(ecrTarget, auth, ""), "{}"); resp.StatusCode != 400 || !strings.Contains(body, "__type") {
			t.Errorf("%s: %d %s, want a 400 AWS JSON error", name, resp.StatusCode, body)
		}
	}

	a.SetTokenLifetime(-time.Minute)
	_, body = awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr"), "{}")
	_ = json.Unmarshal([]byte(body), &priv)
	if user, pass := ecrPassword(t, priv.AuthorizationData[0].AuthorizationToken); a.ValidCredential(user, pass) {
		t.Error("an expired token is still valid")
	}
}

// TestAWSSignature: the emulator verifies SigV4 signatures against the
// key's secret, as AWS does, and refuses a wrong one with a 403.
func TestAWSSignature(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	u := srv.URL + "/"
	_, _, session, _ := a.issueSession()
	var sessKey string
	for k, s := range a.sessions {
		if s.token == session {
			sessKey = k
		}
	}
	refused := func(name string, h map[string]string, body string) {
		t.Helper()
		resp, got := awsDo(t, "POST", u, h, body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(got, `"__type":"InvalidSignatureException"`) {
			t.Errorf("%s: %d %s, want 403 InvalidSignatureException", name, resp.StatusCode, got)
		}
	}
	refused("static key, wrong secret", signed(t, u, ecrTarget, a.StaticKeyID, a.StaticSecret+"0", "", "eu-west-1", "ecr"), "{}")
	refused("ECR Public, wrong secret", signed(t, u, ecrPublicTarget, a.StaticKeyID, "not-the-secret", "", "us-east-1", "ecr-public"), "{}")
	refused("session key, wrong secret", signed(t, u, ecrTarget, sessKey, a.StaticSecret, session, "eu-west-1", "ecr"), "{}")
	refused("made-up signature", ecrHeaders(ecrTarget, sigv4(a.StaticKeyID, "eu-west-1", "ecr"), ""), "{}")
	refused("body altered after signing", signed(t, u, ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr"), `{"registryIds":["1"]}`)
	h := signed(t, u, ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr")
	h["Content-Type"] = "application/x-amz-json-1.0"
	refused("signed header altered", h, "{}")
	h = signed(t, u, ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr")
	h["X-Amz-Date"] = time.Now().Add(time.Hour).UTC().Format("20060102T150405Z")
	refused("date altered", h, "{}")
	if got := a.Count(OpECRToken) + a.Count(OpECRPublicToken); got != 7 {
		t.Errorf("recorded %d calls, want 7", got)
	}
	if len(a.issued) != 0 {
		t.Errorf("issued %d tokens to badly signed calls", len(a.issued))
	}

	// The right secrets pass, with a payload hash header too.
	if resp, body := awsDo(t, "POST", u, signed(t, u, ecrTarget, sessKey, a.sessions[sessKey].secret, session, "eu-west-1", "ecr"), "{}"); resp.StatusCode != 200 {
		t.Errorf("session key: %d %s", resp.StatusCode, body)
	}
	h = signed(t, u, ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr")
	if resp, body := awsDo(t, "POST", u, h, "{}"); resp.StatusCode != 200 {
		t.Errorf("static key: %d %s", resp.StatusCode, body)
	}
	h["X-Amz-Content-Sha256"] = strings.Repeat("0", 64)
	refused("payload hash header not the body's", h, "{}")
}

func TestAWSSTS(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	const role = "arn:aws:iam::123456789012:role/puller"
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {role},
		"RoleSessionName": {"s"}, "WebIdentityToken": {"jwt"}}
	post := func() (*http.Response, string) {
		return awsDo(t, "POST", srv.URL+"/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	}
	if resp, body := post(); resp.StatusCode != 403 || !strings.Contains(body, "AccessDenied") {
		t.Fatalf("untrusted role: %d %s", resp.StatusCode, body)
	}
	a.TrustRole(role)
	resp, body := post()
	if resp.StatusCode != 200 || !strings.Contains(body, "<AccessKeyId>ASIA") || !strings.Contains(body, "assumed-role/puller/s") {
		t.Fatalf("trusted role: %d %s", resp.StatusCode, body)
	}
	if c := a.Calls(OpSTSWebIdentity); len(c) != 2 || c[1].Form["RoleArn"] != role || c[1].Form["WebIdentityToken"] != "jwt" {
		t.Errorf("recorded = %+v", c)
	}
	a.Inject(OpSTSWebIdentity, AWSThrottling(OpSTSWebIdentity))
	if resp, body := post(); resp.StatusCode != 400 || !strings.Contains(body, "<Code>Throttling</Code>") {
		t.Fatalf("throttled: %d %s", resp.StatusCode, body)
	}
}

func TestAWSFaults(t *testing.T) {
	a := NewAWS()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	call := func() (*http.Response, string) {
		return awsDo(t, "POST", srv.URL+"/", signed(t, srv.URL+"/", ecrTarget, a.StaticKeyID, a.StaticSecret, "", "eu-west-1", "ecr"), "{}")
	}
	a.Inject(OpECRToken, AWSThrottling(OpECRToken))
	if resp, body := call(); resp.StatusCode != 400 || !strings.Contains(body, "ThrottlingException") {
		t.Fatalf("throttled: %d %s", resp.StatusCode, body)
	}
	a.Inject(OpECRToken, Fault{Status: 503, Times: 1})
	if resp, _ := call(); resp.StatusCode != 503 {
		t.Fatalf("5xx fault: %d", resp.StatusCode)
	}
	if resp, _ := call(); resp.StatusCode != 200 {
		t.Fatalf("after a one-time fault: %d", resp.StatusCode)
	}
	a.Inject(OpECRToken, Fault{Body: `{"authorizationData":`})
	if _, body := call(); body != `{"authorizationData":` {
		t.Fatalf("malformed fault body = %q", body)
	}
	if got := a.Count(OpECRToken); got != 4 {
		t.Errorf("recorded %d ECR calls, want 4 (faulted calls count too)", got)
	}
}

func TestAWSEnv(t *testing.T) {
	env := strings.Join(Env("http://127.0.0.1:1"), " ")
	for _, want := range []string{"AWS_ENDPOINT_URL_ECR=", "AWS_ENDPOINT_URL_ECR_PUBLIC=", "AWS_ENDPOINT_URL_STS=", "AWS_EC2_METADATA_SERVICE_ENDPOINT="} {
		if !strings.Contains(env, want+"http://127.0.0.1:1") {
			t.Errorf("Env lacks %s", want)
		}
	}
}
