package fakecloud

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Operations the OCI emulator records and accepts faults for.
const (
	OpOCIRegion       = "oci:metadata-region"
	OpOCIRegionInfo   = "oci:metadata-regionInfo"
	OpOCICert         = "oci:metadata-cert"
	OpOCIKey          = "oci:metadata-key"
	OpOCIIntermediate = "oci:metadata-intermediate"
	OpOCIFederation   = "oci:federation-x509"
	OpOCIRToken       = "ocir:docker-token"
	OpOCIRManifest    = "ocir:manifest"
)

// OCIRTokenPath is the OCIR docker-token endpoint's path.
const OCIRTokenPath = "/20180419/docker/token"

// OCIRegionInfo is what `GET /opc/v2/instance/regionInfo` answers.
type OCIRegionInfo struct {
	RealmKey             string `json:"realmKey"`
	RealmDomainComponent string `json:"realmDomainComponent"`
	RegionKey            string `json:"regionKey"`
	RegionIdentifier     string `json:"regionIdentifier"`
}

// OCIUser is an API signing key the emulator accepts for user-principal
// calls (keyId "tenancy/user/fingerprint").
type OCIUser struct {
	Tenancy, User string
	// Fingerprint is the key's OCI fingerprint (MD5 of the public key's
	// DER, colon-separated hex), as ~/.oci/config's fingerprint= holds it.
	Fingerprint string
	// KeyPEM is the private key, PKCS#1 PEM, for key_file=.
	KeyPEM []byte
}

// Config renders an OCI config file profile for u, with its key at keyFile.
func (u OCIUser) Config(profile, keyFile, region string) string {
	return fmt.Sprintf("[%s]\nuser=%s\nfingerprint=%s\ntenancy=%s\nregion=%s\nkey_file=%s\n",
		profile, u.User, u.Fingerprint, u.Tenancy, region, keyFile)
}

// OCI emulates, on one http.Handler, the Oracle Cloud endpoints of an OCIR
// pull: the instance metadata service (`/opc/v2/...`, as oci-go-sdk's
// instance principal reads it through OCI_METADATA_BASE_URL), the identity
// federation endpoint (`POST /v1/x509`, auth.<region>.<realm domain>) and
// the OCIR registry's token side (`GET /20180419/docker/token`) plus the
// manifest reads token validation makes. Requests are routed by path, never
// by host, so one handler serves a loopback metadata server and every
// registry and auth host name behind the proxy.
//
// Like the real services, it checks what it is sent: metadata wants the
// `Authorization: Bearer Oracle` header; federation verifies the request's
// OCI HTTP signature against the leaf certificate metadata handed out and
// binds the session public key it was sent into the security token (a JWT
// with exp); the docker-token endpoint verifies the OCI signature of every
// call, made with a security token it issued (keyId "ST$<jwt>", signed with
// that session key) or with a registered user API key. Every docker token it
// issues can be checked with ValidToken.
type OCI struct {
	Recorder
	Faults

	// Tenancy is the tenancy OCID the leaf certificate carries (subject OU
	// "opc-tenant:<Tenancy>", where the SDK looks for it).
	Tenancy string
	// Instance is the instance OCID (the security token's subject).
	Instance string
	// Region is what `/instance/region` answers (a region identifier, or
	// for the oldest regions a short key such as "iad", as on OCI).
	Region string
	// RegionInfo is what `/instance/regionInfo` answers; its identifier and
	// realm domain also name the federation host (AuthHost).
	RegionInfo OCIRegionInfo

	mu            sync.Mutex
	federationTTL time.Duration
	tokenTTL      time.Duration
	jwtKey        []byte
	interKey      *rsa.PrivateKey
	interCert     *x509.Certificate
	interPEM      []byte
	leafKey       *rsa.PrivateKey
	leafCert      *x509.Certificate
	leafPEM       []byte
	keyPEM        []byte
	sessions      map[string]*rsa.PublicKey // security token -> session public key
	users         map[string]*rsa.PublicKey // "tenancy/user/fingerprint" -> API key
	issued        map[string]OCIRGrant      // docker token -> grant
}

// OCIRGrant is what an issued docker token stands for.
type OCIRGrant struct {
	// Registry is the host the token was asked from.
	Registry string
	// Identity is "instance:<instance OCID>" or "user:<user OCID>".
	Identity string
	// ExpiresAt is the token's end.
	ExpiresAt time.Time
}

// NewOCI returns an OCI emulator for a fresh tenancy and instance in
// us-ashburn-1, with a newly generated leaf certificate and key.
func NewOCI() (*OCI, error) {
	o := &OCI{
		Tenancy:       "ocid1.tenancy.oc1..aaaakcredfaketenancy",
		Instance:      "ocid1.instance.oc1.iad.aaaakcredfakeinstance",
		Region:        "us-ashburn-1",
		RegionInfo:    OCIRegionInfo{RealmKey: "oc1", RealmDomainComponent: "oraclecloud.com", RegionKey: "IAD", RegionIdentifier: "us-ashburn-1"},
		federationTTL: 20 * time.Minute,
		tokenTTL:      time.Hour,
		jwtKey:        make([]byte, 32),
		sessions:      map[string]*rsa.PublicKey{},
		users:         map[string]*rsa.PublicKey{},
		issued:        map[string]OCIRGrant{},
	}
	_, _ = rand.Read(o.jwtKey)
	if err := o.RotateCertificate(); err != nil {
		return nil, err
	}
	return o, nil
}

// RotateCertificate issues a new intermediate and leaf certificate and key
// for the tenancy, as an instance's identity certificate rotates.
func (o *OCI) RotateCertificate() error {
	interKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("fakecloud: OCI intermediate key: %w", err)
	}
	now := time.Now()
	interTmpl := caTemplate(2, "PKISVC Identity Intermediate r2")
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, interTmpl, &interKey.PublicKey, interKey)
	if err != nil {
		return fmt.Errorf("fakecloud: OCI intermediate: %w", err)
	}
	interCert, _ := x509.ParseCertificate(interDER)
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("fakecloud: OCI leaf key: %w", err)
	}
	o.mu.Lock()
	tenancy, instance := o.Tenancy, o.Instance
	o.mu.Unlock()
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject: pkix.Name{
			CommonName:         instance,
			OrganizationalUnit: []string{"opc-certtype:instance", "opc-compartment:" + tenancy, "opc-instance:" + instance, "opc-tenant:" + tenancy},
		},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, interCert, &leafKey.PublicKey, interKey)
	if err != nil {
		return fmt.Errorf("fakecloud: OCI leaf: %w", err)
	}
	leafCert, _ := x509.ParseCertificate(leafDER)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.interKey, o.interCert = interKey, interCert
	o.interPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: interDER})
	o.leafKey, o.leafCert = leafKey, leafCert
	o.leafPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	o.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(leafKey)})
	return nil
}

// SetFederationTTL sets the lifetime of the security tokens issued from now
// on (default 20m); a negative one issues tokens that are already expired.
func (o *OCI) SetFederationTTL(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.federationTTL = d
}

// SetTokenTTL sets the expires_in of the docker tokens issued from now on
// (default 1h).
func (o *OCI) SetTokenTTL(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokenTTL = d
}

// AuthHost is the federation endpoint's host for RegionInfo,
// "auth.<region identifier>.<realm domain>".
func (o *OCI) AuthHost() string {
	return "auth." + o.RegionInfo.RegionIdentifier + "." + o.RegionInfo.RealmDomainComponent
}

// Install routes the federation host (AuthHost) and the given registry
// hosts through p. Metadata is not routed: point OCI_METADATA_BASE_URL at a
// loopback server of this handler (169.254.169.254 is shared with the other
// clouds' emulators).
func (o *OCI) Install(p *Proxy, registries ...string) {
	p.Route(o.AuthHost(), o)
	for _, r := range registries {
		p.Route(r, o)
	}
}

// AddUser registers a new API signing key for user in the tenancy and
// returns it, for user-principal calls.
func (o *OCI) AddUser(user string) (OCIUser, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return OCIUser{}, fmt.Errorf("fakecloud: OCI user key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return OCIUser{}, fmt.Errorf("fakecloud: OCI user key: %w", err)
	}
	sum := md5.Sum(der)
	u := OCIUser{
		Tenancy:     o.Tenancy,
		User:        user,
		Fingerprint: colonHex(sum[:]),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}
	o.mu.Lock()
	o.users[u.Tenancy+"/"+u.User+"/"+u.Fingerprint] = &key.PublicKey
	o.mu.Unlock()
	return u, nil
}

// ValidToken reports whether tok is an unexpired docker token this emulator
// issued, and what for.
func (o *OCI) ValidToken(tok string) (OCIRGrant, bool) {
	o.mu.Lock()
	g, ok := o.issued[tok]
	o.mu.Unlock()
	if !ok || time.Now().After(g.ExpiresAt) {
		return OCIRGrant{}, false
	}
	return g, true
}

// ServeHTTP routes by path: metadata, federation, docker token, manifests.
func (o *OCI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/opc/v2/"):
		o.metadata(w, r, strings.TrimPrefix(p, "/opc/v2"))
	case p == "/v1/x509" && r.Method == http.MethodPost:
		o.federation(w, r)
	case p == OCIRTokenPath && r.Method == http.MethodGet:
		o.dockerToken(w, r)
	case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/manifests/"):
		o.manifest(w, r)
	default:
		ociError(w, http.StatusNotFound, "NotFound", "no such endpoint "+p)
	}
}

func (o *OCI) metadata(w http.ResponseWriter, r *http.Request, path string) {
	ops := map[string]string{
		"/instance/region":           OpOCIRegion,
		"/instance/regionInfo":       OpOCIRegionInfo,
		"/identity/cert.pem":         OpOCICert,
		"/identity/key.pem":          OpOCIKey,
		"/identity/intermediate.pem": OpOCIIntermediate,
	}
	op, ok := ops[path]
	if !ok || r.Method != http.MethodGet {
		ociError(w, http.StatusNotFound, "NotFound", "no such metadata "+path)
		return
	}
	o.Record(Call{Op: op, Host: r.Host, Header: r.Header.Clone()})
	if o.ApplyRequest(op, w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer Oracle" {
		ociError(w, http.StatusUnauthorized, "NotAuthorized", "metadata v2 needs the header Authorization: Bearer Oracle")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var body []byte
	switch op {
	case OpOCIRegion:
		body = []byte(o.Region)
	case OpOCIRegionInfo:
		body, _ = json.Marshal(o.RegionInfo)
		w.Header().Set("Content-Type", "application/json")
	case OpOCICert:
		body = o.leafPEM
	case OpOCIKey:
		body = o.keyPEM
	case OpOCIIntermediate:
		body = o.interPEM
	}
	_, _ = w.Write(body)
}

// federation serves the X.509 federation call: the signature must be the
// leaf key's over the SDK's header set, with keyId
// "<tenancy>/fed-x509-sha256/<leaf fingerprint>", and the body must present
// that leaf certificate, the intermediate and a session public key.
func (o *OCI) federation(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		ociError(w, http.StatusBadRequest, "InvalidParameter", "unreadable body")
		return
	}
	var req struct {
		Certificate              string   `json:"certificate"`
		PublicKey                string   `json:"publicKey"`
		IntermediateCertificates []string `json:"intermediateCertificates"`
	}
	jsonErr := json.Unmarshal(body, &req)
	sig, _ := parseOCISignature(r.Header.Get("Authorization"))
	o.Record(Call{Op: OpOCIFederation, Host: r.Host, Header: r.Header.Clone(), Form: map[string]string{"keyId": sig.keyID}})
	if o.ApplyRequest(OpOCIFederation, w, r) {
		return
	}
	o.mu.Lock()
	leaf, inter, ttl := o.leafCert, o.interCert, o.federationTTL
	tenancy, instance := o.Tenancy, o.Instance
	o.mu.Unlock()
	wantKeyID := tenancy + "/fed-x509-sha256/" + colonHex(sha256Sum(leaf.Raw))
	if err := verifyOCISignature(r, body, []string{"date", "(request-target)", "content-length", "content-type", "x-content-sha256"},
		func(keyID string) (*rsa.PublicKey, error) {
			if keyID != wantKeyID {
				return nil, fmt.Errorf("keyId %q is not this instance's leaf certificate", keyID)
			}
			return leaf.PublicKey.(*rsa.PublicKey), nil
		}); err != nil {
		ociError(w, http.StatusUnauthorized, "NotAuthenticated", err.Error())
		return
	}
	if jsonErr != nil {
		ociError(w, http.StatusBadRequest, "InvalidParameter", "body is not JSON")
		return
	}
	if req.Certificate != base64.StdEncoding.EncodeToString(leaf.Raw) {
		ociError(w, http.StatusUnauthorized, "NotAuthenticated", "certificate is not the signing leaf")
		return
	}
	if !slices.Contains(req.IntermediateCertificates, base64.StdEncoding.EncodeToString(inter.Raw)) {
		ociError(w, http.StatusUnauthorized, "NotAuthenticated", "intermediate certificate missing")
		return
	}
	der, err := base64.StdEncoding.DecodeString(req.PublicKey)
	if err != nil {
		ociError(w, http.StatusBadRequest, "InvalidParameter", "publicKey is not base64")
		return
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	session, ok := pub.(*rsa.PublicKey)
	if err != nil || !ok {
		ociError(w, http.StatusBadRequest, "InvalidParameter", "publicKey is not an RSA public key")
		return
	}
	jwk, _ := json.Marshal(map[string]string{
		"kid": "asw", "kty": "RSA", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(session.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(session.E)).Bytes()),
	})
	now := time.Now()
	tok := o.jwt(map[string]any{
		"sub": instance, "opc-instance": instance, "opc-tenant": tenancy, "tenant": tenancy,
		"ptype": "instance", "iss": "authService.oracle.com", "aud": "oci",
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jwk": string(jwk),
	})
	o.mu.Lock()
	o.sessions[tok] = session
	o.mu.Unlock()
	ociJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// dockerToken serves the OCIR token endpoint for OCI-signed requests.
func (o *OCI) dockerToken(w http.ResponseWriter, r *http.Request) {
	sig, _ := parseOCISignature(r.Header.Get("Authorization"))
	q := r.URL.Query()
	form := map[string]string{"service": q.Get("service"), "scope": q.Get("scope"), "principal": principalKind(sig.keyID)}
	o.Record(Call{Op: OpOCIRToken, Host: r.Host, Header: r.Header.Clone(), Form: form})
	if o.ApplyRequest(OpOCIRToken, w, r) {
		return
	}
	var identity string
	err := verifyOCISignature(r, nil, []string{"date", "(request-target)", "host"}, func(keyID string) (*rsa.PublicKey, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if st, ok := strings.CutPrefix(keyID, "ST$"); ok {
			pub, known := o.sessions[st]
			if !known {
				return nil, errors.New("security token was not issued by this realm")
			}
			claims, err := jwtClaims(st)
			if err != nil {
				return nil, err
			}
			if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
				return nil, errors.New("security token expired")
			}
			identity = "instance:" + fmt.Sprint(claims["sub"])
			return pub, nil
		}
		pub, ok := o.users[keyID]
		if !ok {
			return nil, fmt.Errorf("no API key %q in this tenancy", keyID)
		}
		identity = "user:" + strings.Split(keyID, "/")[1]
		return pub, nil
	})
	if err != nil {
		ociError(w, http.StatusUnauthorized, "NotAuthenticated", err.Error())
		return
	}
	o.mu.Lock()
	ttl := o.tokenTTL
	o.mu.Unlock()
	host := hostOnly(r.Host)
	exp := time.Now().Add(ttl).Truncate(time.Second)
	tok := o.jwt(map[string]any{"sub": identity, "aud": host, "exp": exp.Unix(), "iss": "ocir"})
	o.mu.Lock()
	o.issued[tok] = OCIRGrant{Registry: host, Identity: identity, ExpiresAt: exp}
	o.mu.Unlock()
	ociJSON(w, http.StatusOK, map[string]any{
		"token": tok, "access_token": tok, "scope": q.Get("scope"), "expires_in": int(ttl.Seconds()),
	})
}

// manifest serves the manifest read token validation makes: 401 without a
// valid docker token, else 404 (the emulator stores no images, which
// validation reads as "the token works"). Inject a 403 for a missing policy.
func (o *OCI) manifest(w http.ResponseWriter, r *http.Request) {
	o.Record(Call{Op: OpOCIRManifest, Host: r.Host, Header: r.Header.Clone(), Form: map[string]string{"path": r.URL.Path}})
	if o.ApplyRequest(OpOCIRManifest, w, r) {
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, ok := o.ValidToken(tok); !ok {
		w.Header().Set("Www-Authenticate", `Bearer realm="https://`+hostOnly(r.Host)+OCIRTokenPath+`",service="`+hostOnly(r.Host)+`"`)
		ociJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": "authentication required"}}})
		return
	}
	ociJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}}})
}

// ociSignature is a parsed `Authorization: Signature ...` header.
type ociSignature struct {
	keyID, algorithm, version, signature string
	headers                              []string
}

// parseOCISignature parses the draft-cavage signature header OCI uses:
// `Signature version="1",headers="...",keyId="...",algorithm="rsa-sha256",signature="..."`.
func parseOCISignature(h string) (ociSignature, error) {
	rest, ok := strings.CutPrefix(h, "Signature ")
	if !ok {
		return ociSignature{}, errors.New("Authorization is not an OCI signature")
	}
	var s ociSignature
	for rest != "" {
		name, after, ok := strings.Cut(rest, `="`)
		if !ok {
			return ociSignature{}, errors.New("malformed signature header")
		}
		value, tail, ok := strings.Cut(after, `"`)
		if !ok {
			return ociSignature{}, errors.New("malformed signature header")
		}
		switch strings.TrimSpace(name) {
		case "keyId":
			s.keyID = value
		case "algorithm":
			s.algorithm = value
		case "version":
			s.version = value
		case "signature":
			s.signature = value
		case "headers":
			s.headers = strings.Fields(value)
		}
		rest = strings.TrimPrefix(tail, ",")
	}
	return s, nil
}

// verifyOCISignature checks r's OCI signature: it must cover every header
// in required, its Date must be within 5 minutes, a signed
// x-content-sha256 must be body's, and the RSA-SHA256 signature must verify
// with the key lookup returns for its keyId.
func verifyOCISignature(r *http.Request, body []byte, required []string, lookup func(keyID string) (*rsa.PublicKey, error)) error {
	s, err := parseOCISignature(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if s.version != "1" || s.algorithm != "rsa-sha256" || s.signature == "" || s.keyID == "" {
		return errors.New("signature header lacks version 1, rsa-sha256, keyId or signature")
	}
	for _, h := range required {
		if !slices.Contains(s.headers, h) {
			return fmt.Errorf("signature does not cover %s", h)
		}
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return errors.New("missing or malformed Date header")
	}
	if d := time.Since(date); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("Date header is more than 5 minutes off")
	}
	if slices.Contains(s.headers, "x-content-sha256") {
		sum := sha256.Sum256(body)
		if r.Header.Get("X-Content-Sha256") != base64.StdEncoding.EncodeToString(sum[:]) {
			return errors.New("x-content-sha256 does not match the body")
		}
	}
	pub, err := lookup(s.keyID)
	if err != nil {
		return err
	}
	lines := make([]string, len(s.headers))
	for i, h := range s.headers {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		case "host":
			v = r.Host
		default:
			v = r.Header.Get(h)
		}
		lines[i] = h + ": " + v
	}
	sig, err := base64.StdEncoding.DecodeString(s.signature)
	if err != nil {
		return errors.New("signature is not base64")
	}
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return errors.New("signature does not verify")
	}
	return nil
}

// principalKind names the kind of identity a keyId is, for assertions.
func principalKind(keyID string) string {
	switch {
	case keyID == "":
		return ""
	case strings.HasPrefix(keyID, "ST$"):
		return "instance"
	case strings.Contains(keyID, "/fed-x509-sha256/"):
		return "x509"
	default:
		return "user"
	}
}

// jwt makes a JWT signed with the emulator's own key: nobody but the
// emulator verifies these.
func (o *OCI) jwt(claims map[string]any) string { return signJWT(o.jwtKey, claims) }

// jwtClaims decodes a JWT's claims without verifying it.
func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("token claims are not base64url")
	}
	var claims map[string]any
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&claims); err != nil {
		return nil, errors.New("token claims are not JSON")
	}
	return claims, nil
}

// ExpiredJWT returns a syntactically valid security token whose exp has
// passed, for answers injected with Fault.Body.
func (o *OCI) ExpiredJWT() string {
	return o.jwt(map[string]any{"sub": o.Instance, "exp": time.Now().Add(-time.Hour).Unix()})
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// colonHex formats b as lowercase colon-separated hex, OCI's fingerprint form.
func colonHex(b []byte) string {
	return strings.ReplaceAll(fmt.Sprintf("% x", b), " ", ":")
}

func ociError(w http.ResponseWriter, status int, code, msg string) {
	ociJSON(w, status, map[string]string{"code": code, "message": msg})
}

func ociJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("opc-request-id", fmt.Sprintf("kcredfake%x", time.Now().UnixNano()))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
