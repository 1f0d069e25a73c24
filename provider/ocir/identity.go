package ocir

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"

	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/cloudtoken"
	"github.com/kcred/kcred/tokencache"
)

// The SDK's environment knobs kcred reads itself (the SDK reads them too).
const (
	envMetadataBase = "OCI_METADATA_BASE_URL"
	envConfigFile   = "OCI_CONFIG_FILE"
	envAuthURL      = "OCI_SDK_AUTH_CLIENT_REGION_URL"
)

// defaultMetadataBase is where oci-go-sdk finds instance metadata.
const defaultMetadataBase = "http://169.254.169.254/opc/v2"

// signer is a principal ready to sign: the SDK's request signer needs only
// a key and its keyId.
type signer struct {
	keyID string
	key   *rsa.PrivateKey
}

// PrivateRSAKey implements common.KeyProvider.
func (s signer) PrivateRSAKey() (*rsa.PrivateKey, error) { return s.key, nil }

// KeyID implements common.KeyProvider.
func (s signer) KeyID() (string, error) { return s.keyID, nil }

// userPrincipal is an API key from an OCI config file, read (from local
// files only) when the request is planned.
type userPrincipal struct {
	provider common.ConfigurationProvider
	source   string // the config file, for messages
	user     string
	identity cloudtoken.Identity
}

// loadUserPrincipal reads the DEFAULT profile of the OCI config: the file
// OCI_CONFIG_FILE names when set (an explicit choice wins), else the SDK's
// default search (~/.oci/config, ~/.obmcs/config, TF_VAR_* variables).
// Only local files are read.
func loadUserPrincipal(getenv func(string) string) (*userPrincipal, error) {
	var p common.ConfigurationProvider
	source := "~/.oci/config"
	if file := getenv(envConfigFile); file != "" {
		var err error
		if p, err = common.ConfigurationProviderFromFile(file, ""); err != nil {
			return nil, userConfigError(file, err)
		}
		source = file
	} else {
		p = common.DefaultConfigProvider()
	}
	tenancy, err := p.TenancyOCID()
	if err != nil {
		return nil, userConfigError(source, err)
	}
	user, err := p.UserOCID()
	if err != nil {
		return nil, userConfigError(source, err)
	}
	fp, err := p.KeyFingerprint()
	if err != nil {
		return nil, userConfigError(source, err)
	}
	return &userPrincipal{
		provider: p,
		source:   source,
		user:     user,
		identity: cloudtoken.Identity{
			Fingerprint: "user:" + cloudtoken.Hash(tenancy, user, fp),
			Description: "user " + user + " with API key " + fp + " from " + source,
		},
	}, nil
}

func userConfigError(source string, err error) error {
	return &plugin.Error{
		What:  "read the OCI config " + source + " for " + envAuthMethod + "=" + string(UserPrincipal),
		Err:   errors.New(firstLine(err.Error())),
		Check: "check that the DEFAULT profile has user, fingerprint, tenancy and key_file, or set " + envConfigFile,
	}
}

// signer loads the API key (a local file).
func (u *userPrincipal) signer() (common.KeyProvider, error) {
	if _, err := u.provider.PrivateRSAKey(); err != nil {
		return nil, &plugin.Error{
			What:  "load the API key of " + u.user + " from " + u.source,
			Err:   errors.New(firstLine(err.Error())),
			Check: "check key_file and pass_phrase in the OCI config",
		}
	}
	return u.provider, nil
}

// instanceIdentity describes the node's instance principal without any
// I/O: the tenancy is only known from the metadata service's certificate,
// so the identity is the node's metadata service itself.
func instanceIdentity(getenv func(string) string) cloudtoken.Identity {
	return cloudtoken.Identity{
		Fingerprint: "instance:" + metadataBase(getenv),
		Description: "node instance principal",
	}
}

func metadataBase(getenv func(string) string) string {
	if b := getenv(envMetadataBase); b != "" {
		return b
	}
	return defaultMetadataBase
}

// instanceSigner returns the instance principal's session key and security
// token. The SDK's instance-principal provider reads instance metadata when
// it is constructed, so it is built here, in Fetch, never when planning.
// The security token (with the session key it is bound to) is cached on
// the node by tenancy and region, so that a second OCIR host needs no
// federation call while the first token is valid.
func (c *cloud) instanceSigner(ctx context.Context) (common.KeyProvider, error) {
	calls := newSDKCalls(ctx, c.client, metadataBase(c.getenv))
	var p common.ConfigurationProvider
	err := calls.run(func() (err error) {
		p, err = auth.InstancePrincipalConfigurationProviderWithCustomClient(calls.dispatcher)
		return err
	})
	if err != nil {
		return nil, calls.explain("read the instance identity from the metadata service", err,
			"check that "+envMetadataBase+", if set, points at the OCI instance metadata service")
	}
	tenancy, _ := p.TenancyOCID()
	region, _ := p.Region()
	if tenancy == "" {
		return nil, &plugin.Error{
			What:  "read the instance identity from the metadata service",
			Err:   cloudtoken.Malformed("the instance certificate names no tenancy (no opc-tenant: subject attribute)"),
			Check: "check that " + envMetadataBase + " points at the OCI instance metadata service",
		}
	}
	key := tokencache.Key{Role: c.role, Identity: "instance-session:" + tenancy, Scope: region, MaxLifetime: maxLifetime}
	tok, err := c.cacheDo(ctx, key, func(context.Context) (tokencache.Token, error) {
		return federate(calls, p, federationHost(c.getenv, region))
	})
	if err != nil {
		return nil, err
	}
	return decodeSession(tok)
}

// federate has the SDK exchange the instance certificate for a security
// token bound to a fresh session key, and returns both as a cache entry:
// the token as Username, the session key (PKCS#1, base64) as Password.
func federate(calls *sdkCalls, p common.ConfigurationProvider, authHost string) (tokencache.Token, error) {
	var keyID string
	var key *rsa.PrivateKey
	err := calls.run(func() (err error) {
		if keyID, err = p.KeyID(); err != nil {
			return err
		}
		key, err = p.PrivateRSAKey()
		return err
	})
	what := "get a security token from " + authHost
	if err != nil {
		return tokencache.Token{}, calls.explain(what, err,
			"the answer is not OCI's: check "+envAuthURL+", if set, and that no proxy answers in its place")
	}
	jwt, ok := strings.CutPrefix(keyID, "ST$")
	exp, hasExp := cloudtoken.JWTExpiry(jwt)
	if !ok || !hasExp || key == nil {
		return tokencache.Token{}, &plugin.Error{What: what, Err: cloudtoken.Malformed("the answer is not a security token with an expiry")}
	}
	if now := time.Now(); !exp.After(now.Add(time.Minute)) {
		state := "expired"
		if exp.After(now) {
			state = "expires within a minute, at"
		}
		return tokencache.Token{}, &plugin.Error{
			What:  what,
			Err:   fmt.Errorf("the security token %s %s", state, exp.UTC().Format(time.RFC3339)),
			Check: "check the node's clock, and " + envAuthURL + " if set",
		}
	}
	return tokencache.Token{
		Username:  jwt,
		Password:  base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key)),
		ExpiresAt: exp,
	}, nil
}

// decodeSession turns a cached security token and session key into a signer.
func decodeSession(tok tokencache.Token) (common.KeyProvider, error) {
	der, err := base64.StdEncoding.DecodeString(tok.Password)
	if err == nil {
		var key *rsa.PrivateKey
		if key, err = x509.ParsePKCS1PrivateKey(der); err == nil {
			return signer{keyID: "ST$" + tok.Username, key: key}, nil
		}
	}
	return nil, &plugin.Error{What: "read the cached security token", Err: errors.New("session key unreadable"),
		Check: "remove the node token cache directory's files"}
}

// federationHost is the auth endpoint the SDK calls for region.
func federationHost(getenv func(string) string, region string) string {
	if u := getenv(envAuthURL); u != "" {
		return u
	}
	return common.StringToRegion(region).Endpoint("auth")
}

// sdkCalls runs oci-go-sdk's instance-principal code under the fetch's
// bounds. The SDK retries on its own with sleeps it does not let a context
// cut (the region lookup: 8 tries over about two minutes; federation: 3
// tries), so it runs on its own goroutine and the fetch stops waiting as
// soon as its context ends, an attempt timed out, or maxFailures calls
// failed: the last failure is then the reason given. Every call goes
// through the kit's bounded client, bound to the fetch's context.
type sdkCalls struct {
	ctx    context.Context
	client *http.Client
	meta   string

	mu       sync.Mutex
	failures int
	last     *plugin.Error
	stop     chan struct{}
	stopped  bool
}

// maxFailures is how many failed metadata or federation calls end a fetch.
const maxFailures = 3

func newSDKCalls(ctx context.Context, client *http.Client, metadataBase string) *sdkCalls {
	return &sdkCalls{ctx: ctx, client: client, meta: strings.TrimSuffix(metadataBase, "/"), stop: make(chan struct{})}
}

// dispatcher is the SDK's HTTP client modifier: every client the SDK builds
// for metadata and federation becomes this one.
func (s *sdkCalls) dispatcher(common.HTTPRequestDispatcher) (common.HTTPRequestDispatcher, error) {
	return s, nil
}

// Do implements common.HTTPRequestDispatcher.
func (s *sdkCalls) Do(req *http.Request) (*http.Response, error) {
	select {
	case <-s.stop:
		// The fetch has given up; the SDK's own retries go nowhere.
		return nil, errStopped
	default:
	}
	resp, err := s.client.Do(req.WithContext(s.ctx))
	switch {
	case err != nil:
		s.fail(req, describeCallError(err), cloudtoken.IsTimeout(err), err)
	case resp.StatusCode >= 400:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		s.fail(req, resp.Status+ociMessage(body), false, nil)
	default:
		resp.Body = &watchedBody{ReadCloser: resp.Body, fail: func(err error) {
			s.fail(req, describeCallError(err), cloudtoken.IsTimeout(err) || cloudtoken.IsMalformed(err), err)
		}}
	}
	return resp, err
}

// watchedBody reports the first failed read of an answer's body as the
// call's failure: the SDK retries its region lookup on a body it could not
// read (over the size bound, trickling past the attempt's timeout) for
// minutes, so without it a fetch would only end at its deadline, saying
// nothing of why.
type watchedBody struct {
	io.ReadCloser
	once sync.Once
	fail func(error)
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.once.Do(func() { b.fail(err) })
	}
	return n, err
}

// fail records a failed call and stops the fetch after a timeout (or
// another failure no retry mends: stop) or maxFailures failures.
func (s *sdkCalls) fail(req *http.Request, why string, stop bool, cause error) {
	endpoint, check := s.describe(req)
	var err error = errors.New(why)
	if cause != nil {
		err = &callError{msg: why, cause: cause}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures++
	s.last = &plugin.Error{What: endpoint, Err: err, Check: check}
	if (stop || s.failures >= maxFailures) && !s.stopped {
		s.stopped = true
		close(s.stop)
	}
}

// callError keeps a transport error's cause (timeouts, network) for the
// driver's classification while saying it in one short line.
type callError struct {
	msg   string
	cause error
}

func (e *callError) Error() string { return e.msg }
func (e *callError) Unwrap() error { return e.cause }

// describe names the endpoint a call went to and what to check when it
// fails.
func (s *sdkCalls) describe(req *http.Request) (endpoint, check string) {
	u := req.URL.String()
	if strings.HasPrefix(u, s.meta) {
		return "instance metadata " + req.Method + " " + strings.TrimPrefix(u, s.meta),
			"check that this node is an OCI instance that reaches its metadata service, or " + envMetadataBase
	}
	return "federation " + req.Method + " " + req.URL.Scheme + "://" + req.URL.Host + req.URL.Path,
		"check that the node reaches " + req.URL.Host + ", HTTPS_PROXY/NO_PROXY, " + envAuthURL + " if set, and that the instance certificate is valid"
}

// run calls fn (SDK code) on its own goroutine and returns its error, or
// errStopped as soon as the calls stop, or ctx's error when it ends. A
// panic in the SDK (it asserts claim types in the tokens it reads) is an
// error.
func (s *sdkCalls) run(fn func() error) error {
	// A failure an earlier step recovered from is not this step's reason.
	s.mu.Lock()
	s.last = nil
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- cloudtoken.Malformed("the SDK could not process the answer")
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return err
	case <-s.stop:
		return errStopped
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

var errStopped = errors.New("calls failed")

// explain turns an SDK failure into one line: the last failed call when
// there was one (it says which endpoint answered what), else the SDK's own
// innermost reason, with check as the hint.
func (s *sdkCalls) explain(what string, err error, check string) error {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	switch {
	case last != nil:
		return &plugin.Error{What: what, Err: last}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return &plugin.Error{What: what, Err: err}
	case cloudtoken.IsMalformed(err):
		return &plugin.Error{What: what, Err: err, Check: check}
	}
	return &plugin.Error{What: what, Err: errors.New(sdkReason(err.Error())), Check: check}
}

// sdkReason is the innermost reason of an SDK error, which nests
// "failed to X: failed to Y: ..." and appends advice paragraphs.
func sdkReason(s string) string {
	s = firstLine(s)
	if i := strings.LastIndex(s, "failed to "); i > 0 {
		s = s[i:]
	}
	return s
}

// describeCallError says what a transport error was, without repeating
// the URL (the endpoint is named beside it).
func describeCallError(err error) string {
	if cloudtoken.IsTimeout(err) {
		return "no answer in time"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return firstLine(err.Error())
}

// ociMessage extracts ": code: message" from an OCI error document, or
// nothing (bodies are not echoed otherwise).
func ociMessage(body []byte) string {
	var e struct{ Code, Message string }
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Message == "") {
		return ""
	}
	return ": " + plugin.OneLine(strings.TrimSpace(e.Code+" "+e.Message))
}

// firstLine is an SDK error without the advice paragraphs it appends.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
