package fakecloud

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Operations the AWS emulator records and accepts faults for.
const (
	OpIMDSToken        = "imds:GetToken"
	OpIMDSRole         = "imds:GetRole"
	OpIMDSCredentials  = "imds:GetCredentials"
	OpIMDSDocument     = "imds:GetIdentityDocument"
	OpECRToken         = "ecr:GetAuthorizationToken"
	OpECRPublicToken   = "ecr-public:GetAuthorizationToken"
	OpSTSWebIdentity   = "sts:AssumeRoleWithWebIdentity"
	OpContainerCreds   = "container:GetCredentials"
	containerCredsPath = "/container-credentials"
	ecrTarget          = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
	ecrPublicTarget    = "SpencerFrontendService.GetAuthorizationToken"
	awsAccount         = "123456789012"
	defaultTokenLife   = 12 * time.Hour
	defaultSessionLife = time.Hour
)

// AWS emulates, on one http.Handler, the AWS endpoints the ECR provider
// uses: instance metadata v2, the container credentials endpoint (ECS, EKS
// Pod Identity), ECR and ECR Public GetAuthorizationToken, and STS
// AssumeRoleWithWebIdentity. Requests are routed by path, X-Amz-Target
// and form Action, never by host, so it serves both endpoint-URL overrides
// and real host names behind a proxy.
//
// ECR calls must be SigV4-signed with an access key the emulator knows: the
// static key (StaticKeyID), or one it issued through IMDS or STS (with its
// session token); the signature is verified against that key's secret, so a
// request signed with a wrong secret, or altered after signing, is refused
// with AWS's 403 InvalidSignatureException. STS AssumeRoleWithWebIdentity
// is unsigned, as on AWS. Every ECR token it issues can be checked with
// ValidCredential, so a test registry can accept exactly those.
type AWS struct {
	Recorder
	Faults

	// StaticKeyID and StaticSecret are a long-term key pair ECR accepts
	// (for env, profile and credential-file tests).
	StaticKeyID, StaticSecret string
	// Region is what the instance identity document reports.
	Region string
	// RoleName is the instance profile role IMDS reports.
	RoleName string
	// ContainerToken is the authorization token the container credentials
	// endpoint requires.
	ContainerToken string

	mu           sync.Mutex
	tokenLife    time.Duration
	sessionLife  time.Duration
	now          func() time.Time
	sessions     map[string]session   // issued access key ID -> its secret and session token
	imdsTokens   map[string]bool      // issued IMDSv2 session tokens
	trustedRoles map[string]bool      // role ARNs STS lets a web identity assume
	issued       map[string]time.Time // ECR password -> expiry
}

// session is an issued temporary key's secret and session token.
type session struct{ secret, token string }

// NewAWS returns an emulator with a fresh static key pair, region
// eu-west-3, instance role "kcred-node", 12-hour ECR tokens and 1-hour
// session credentials.
func NewAWS() *AWS {
	return &AWS{
		StaticKeyID:    "AKIA" + strings.ToUpper(randomHex(8)),
		StaticSecret:   randomHex(20),
		Region:         "eu-west-3",
		RoleName:       "kcred-node",
		ContainerToken: randomHex(16),
		tokenLife:      defaultTokenLife,
		sessionLife:    defaultSessionLife,
		now:            time.Now,
		sessions:       map[string]session{},
		imdsTokens:     map[string]bool{},
		trustedRoles:   map[string]bool{},
		issued:         map[string]time.Time{},
	}
}

// Env returns the environment variables that point the AWS SDK (v2) at an
// emulator served at baseURL (e.g. an httptest server's URL): ECR, ECR
// Public and STS endpoints and the instance metadata endpoint. IMDS stays
// disabled unless the caller also sets AWS_EC2_METADATA_DISABLED=false.
func Env(baseURL string) []string {
	return []string{
		"AWS_ENDPOINT_URL_ECR=" + baseURL,
		"AWS_ENDPOINT_URL_ECR_PUBLIC=" + baseURL,
		"AWS_ENDPOINT_URL_STS=" + baseURL,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + baseURL,
	}
}

// StaticEnv returns the env credentials of the static key pair.
func (a *AWS) StaticEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + a.StaticKeyID, "AWS_SECRET_ACCESS_KEY=" + a.StaticSecret}
}

// ContainerEnv returns the variables that make the SDK take credentials
// from the emulator's container credentials endpoint at baseURL.
func (a *AWS) ContainerEnv(baseURL string) []string {
	return []string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + baseURL + containerCredsPath,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + a.ContainerToken,
	}
}

// SetTokenLifetime sets how long newly issued ECR tokens live; zero or
// negative issues tokens that are already expired.
func (a *AWS) SetTokenLifetime(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenLife = d
}

// TrustRole lets STS AssumeRoleWithWebIdentity assume roleARN; any other
// role is refused with AccessDenied.
func (a *AWS) TrustRole(roleARN string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.trustedRoles[roleARN] = true
}

// ValidCredential reports whether user/pass is an ECR token this emulator
// issued and that has not expired.
func (a *AWS) ValidCredential(user, pass string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.issued[pass]
	return ok && user == "AWS" && a.now().Before(exp)
}

// Handler returns the emulator's http.Handler.
func (a *AWS) Handler() http.Handler {
	return http.HandlerFunc(a.serve)
}

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/latest/") {
		a.serveIMDS(w, r)
		return
	}
	if r.URL.Path == containerCredsPath {
		a.serveContainer(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "unsupported request", http.StatusBadRequest)
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case ecrTarget:
		a.serveECR(w, r, body, OpECRToken, "ecr")
		return
	case ecrPublicTarget:
		a.serveECR(w, r, body, OpECRPublicToken, "ecr-public")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err == nil && form.Get("Action") == "AssumeRoleWithWebIdentity" {
		a.serveSTS(w, r, form)
		return
	}
	http.Error(w, "unknown operation", http.StatusBadRequest)
}

func (a *AWS) record(op string, r *http.Request, form map[string]string) {
	a.Record(Call{Op: op, Host: r.Host, Header: r.Header.Clone(), Form: form})
}

// serveIMDS implements the IMDSv2 token handshake and the credential and
// identity-document paths.
func (a *AWS) serveIMDS(w http.ResponseWriter, r *http.Request) {
	const credsPath = "/latest/meta-data/iam/security-credentials/"
	if r.URL.Path == "/latest/api/token" {
		a.record(OpIMDSToken, r, nil)
		if a.Apply(OpIMDSToken, w) {
			return
		}
		ttl := r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")
		if r.Method != http.MethodPut || ttl == "" {
			http.Error(w, "missing token TTL", http.StatusBadRequest)
			return
		}
		tok := randomHex(16)
		a.mu.Lock()
		a.imdsTokens[tok] = true
		a.mu.Unlock()
		// The SDK rejects a token whose answer does not echo the TTL.
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)
		_, _ = io.WriteString(w, tok)
		return
	}
	var op string
	switch {
	case r.URL.Path == credsPath:
		op = OpIMDSRole
	case strings.HasPrefix(r.URL.Path, credsPath):
		op = OpIMDSCredentials
	case r.URL.Path == "/latest/dynamic/instance-identity/document":
		op = OpIMDSDocument
	default:
		http.NotFound(w, r)
		return
	}
	a.record(op, r, nil)
	a.mu.Lock()
	ok := a.imdsTokens[r.Header.Get("X-Aws-Ec2-Metadata-Token")]
	a.mu.Unlock()
	if !ok {
		http.Error(w, "IMDSv2 token required", http.StatusUnauthorized)
		return
	}
	if a.Apply(op, w) {
		return
	}
	switch op {
	case OpIMDSRole:
		_, _ = io.WriteString(w, a.RoleName)
	case OpIMDSDocument:
		writeJSON(w, map[string]string{"region": a.Region, "accountId": awsAccount})
	default:
		if strings.TrimPrefix(r.URL.Path, credsPath) != a.RoleName {
			http.NotFound(w, r)
			return
		}
		id, secret, session, exp := a.issueSession()
		writeJSON(w, map[string]string{
			"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": id, "SecretAccessKey": secret,
			"Token": session, "Expiration": exp.UTC().Format(time.RFC3339),
			"LastUpdated": a.now().UTC().Format(time.RFC3339),
		})
	}
}

// serveContainer answers the container credentials endpoint.
func (a *AWS) serveContainer(w http.ResponseWriter, r *http.Request) {
	a.record(OpContainerCreds, r, nil)
	if a.Apply(OpContainerCreds, w) {
		return
	}
	if r.Header.Get("Authorization") != a.ContainerToken {
		http.Error(w, `{"code":"AccessDenied","message":"bad authorization token"}`, http.StatusForbidden)
		return
	}
	id, secret, session, exp := a.issueSession()
	writeJSON(w, map[string]string{"AccessKeyId": id, "SecretAccessKey": secret, "Token": session,
		"Expiration": exp.UTC().Format(time.RFC3339)})
}

// issueSession creates temporary credentials ECR will accept.
func (a *AWS) issueSession() (id, secret, session string, exp time.Time) {
	id = "ASIA" + strings.ToUpper(randomHex(8))
	secret, session = randomHex(20), randomHex(32)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[id] = sessionOf(secret, session)
	return id, secret, session, a.now().Add(a.sessionLife)
}

// sigV4Scope extracts the access key, region and service of a SigV4
// Authorization header.
func sigV4Scope(auth string) (akid, region, service string, ok bool) {
	_, rest, found := strings.Cut(auth, "Credential=")
	if !found || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", "", "", false
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", "", "", false
	}
	return parts[0], parts[2], parts[3], true
}

func sessionOf(secret, token string) session { return session{secret: secret, token: token} }

// verifySigV4 checks r's AWS4-HMAC-SHA256 Authorization header against
// secret, per the SigV4 spec: the canonical request (method, path, sorted
// query, the signed headers the header lists, the payload hash from
// X-Amz-Content-Sha256 or of body), the string to sign over X-Amz-Date and
// the credential scope, and the key derived from secret, date, region and
// service. The payload hash must match body unless it is UNSIGNED-PAYLOAD.
func verifySigV4(r *http.Request, body []byte, secret string) bool {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return false
	}
	fields := map[string]string{}
	for _, f := range strings.Split(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.SplitN(fields["Credential"], "/", 2)
	signed, sig := fields["SignedHeaders"], fields["Signature"]
	amzDate := r.Header.Get("X-Amz-Date")
	if len(scope) != 2 || signed == "" || sig == "" || len(amzDate) < 8 || !strings.HasPrefix(scope[1], amzDate[:8]+"/") {
		return false
	}
	bodyHash := sha256Hex(body)
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	switch payloadHash {
	case "":
		payloadHash = bodyHash
	case "UNSIGNED-PAYLOAD", bodyHash:
	default:
		return false
	}
	names := strings.Split(signed, ";")
	if !slices.IsSorted(names) || !slices.Contains(names, "host") {
		return false
	}
	var canon strings.Builder
	fmt.Fprintf(&canon, "%s\n%s\n%s\n", r.Method, canonicalPath(r.URL), canonicalQuery(r.URL.Query()))
	for _, name := range names {
		fmt.Fprintf(&canon, "%s:%s\n", name, canonicalHeader(r, name))
	}
	fmt.Fprintf(&canon, "\n%s\n%s", signed, payloadHash)
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope[1] + "\n" + sha256Hex([]byte(canon.String()))
	parts := strings.Split(scope[1], "/") // date/region/service/aws4_request
	key := []byte("AWS4" + secret)
	for _, p := range parts {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	return hmac.Equal([]byte(want), []byte(sig))
}

// canonicalHeader is the SigV4 value of the signed header name: values
// joined by commas, trimmed, inner runs of spaces collapsed.
func canonicalHeader(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
			return fmt.Sprint(r.ContentLength)
		}
	}
	vals := r.Header.Values(name)
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalPath is the SigV4 canonical URI of services other than S3: the
// escaped path, each segment URI-encoded again.
func canonicalPath(u *url.URL) string {
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		segs[i] = sigV4Escape(seg)
	}
	if p := strings.Join(segs, "/"); p != "" {
		return p
	}
	return "/"
}

// canonicalQuery is the SigV4 query string: keys and values URI-encoded
// (RFC 3986 unreserved characters kept), sorted by key, then value.
func canonicalQuery(q url.Values) string {
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{sigV4Escape(k), sigV4Escape(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

func sigV4Escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), "%7E", "~")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// serveECR answers GetAuthorizationToken for ECR (a list of
// authorizationData) or ECR Public (a single object).
func (a *AWS) serveECR(w http.ResponseWriter, r *http.Request, body []byte, op, signingName string) {
	akid, region, service, signed := sigV4Scope(r.Header.Get("Authorization"))
	a.record(op, r, map[string]string{"akid": akid, "region": region, "service": service})
	if a.Apply(op, w) {
		return
	}
	if !signed || service != signingName {
		jsonError(w, http.StatusBadRequest, "IncompleteSignatureException", "request must be SigV4-signed for "+signingName)
		return
	}
	a.mu.Lock()
	sess, known := a.sessions[akid]
	if akid == a.StaticKeyID {
		known, sess = true, sessionOf(a.StaticSecret, "")
	}
	a.mu.Unlock()
	if !known || r.Header.Get("X-Amz-Security-Token") != sess.token {
		jsonError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if !verifySigV4(r, body, sess.secret) {
		jsonError(w, http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. "+
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
		return
	}
	pass := "ecr-" + randomHex(24)
	a.mu.Lock()
	exp := a.now().Add(a.tokenLife).Truncate(time.Second)
	a.issued[pass] = exp
	a.mu.Unlock()
	data := map[string]any{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + pass)),
		"expiresAt":          exp.Unix(),
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if op == OpECRPublicToken {
		writeJSON(w, map[string]any{"authorizationData": data})
		return
	}
	data["proxyEndpoint"] = fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", awsAccount, region)
	writeJSON(w, map[string]any{"authorizationData": []any{data}})
}

// serveSTS answers AssumeRoleWithWebIdentity for trusted roles.
func (a *AWS) serveSTS(w http.ResponseWriter, r *http.Request, form url.Values) {
	role, session, token := form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("WebIdentityToken")
	a.record(OpSTSWebIdentity, r, map[string]string{"RoleArn": role, "RoleSessionName": session, "WebIdentityToken": token})
	if a.Apply(OpSTSWebIdentity, w) {
		return
	}
	a.mu.Lock()
	trusted := a.trustedRoles[role]
	a.mu.Unlock()
	switch {
	case token == "":
		xmlError(w, http.StatusBadRequest, "InvalidIdentityToken", "No web identity token provided")
		return
	case !trusted:
		xmlError(w, http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	id, secret, sess, exp := a.issueSession()
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleWithWebIdentityResult>
<SubjectFromWebIdentityToken>system:serviceaccount:default:default</SubjectFromWebIdentityToken>
<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROA%s:%s</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>
</AssumeRoleWithWebIdentityResult>
<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
		xmlText(assumedRoleARN(role, session)), randomHex(6), xmlText(session), id, secret, sess,
		exp.UTC().Format(time.RFC3339), randomHex(8))
}

// assumedRoleARN turns arn:aws:iam::ACCT:role/NAME into the STS
// assumed-role ARN.
func assumedRoleARN(role, session string) string {
	name := role[strings.LastIndex(role, "/")+1:]
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", awsAccount, name, session)
}

// AWSThrottling returns a fault that answers op the way AWS throttles it
// (ThrottlingException, which the SDK retries).
func AWSThrottling(op string) Fault {
	if op == OpSTSWebIdentity {
		return Fault{Status: http.StatusBadRequest, Body: xmlErrorBody("Throttling", "Rate exceeded")}
	}
	return Fault{Status: http.StatusBadRequest, Body: `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	writeJSON(w, map[string]string{"__type": code, "message": msg})
}

func xmlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xmlErrorBody(code, msg))
}

func xmlErrorBody(code, msg string) string {
	return fmt.Sprintf(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlText(code), xmlText(msg), randomHex(8))
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
