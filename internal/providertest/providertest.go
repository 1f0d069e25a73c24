// Package providertest is the conformance suite every cloud-token role runs
// against its emulator: the contracts the kubelet and operators rely on,
// checked the same way for every cloud. Most checks call the runtime
// (plugin.Main) in-process, which is fast; a few run the built binary as the
// kubelet does, where the contract is about the process (concurrency across
// processes, memory, the stderr line).
//
// A role's test builds a World once and calls Run:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, &providertest.World{Role: Role, Env: ..., Image: ...})
//	}
//
// Run sets the World's environment in the test process (SDKs read some of
// it, such as HTTPS_PROXY and SSL_CERT_FILE, once per process), so call it
// once per test binary.
package providertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcred/kcred/internal/exectest"
	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/tokencache"
)

// World is a role wired to its emulators.
type World struct {
	// Role is the role under test.
	Role plugin.Role
	// Args are the role's arguments (e.g. a config path), before the flags
	// the suite adds.
	Args []string
	// Env is the role's environment, KEY=VALUE: emulator endpoints,
	// credentials, config paths. exectest.CleanEnv is added below it.
	Env []string
	// Image is an image on one of the cloud's registries, as the kubelet
	// sends it; Registry its host (the key the answer must carry).
	Image, Registry string
	// Foreign is an image on a registry the role does not serve: answered
	// empty, with no cloud traffic. Empty when the role serves any registry.
	Foreign string
	// TokenCalls counts the calls that issued a registry credential.
	TokenCalls func() int
	// Traffic counts every request and connection any emulator endpoint
	// saw, to prove that an exec touched no network.
	Traffic func() int
	// SetTokenLifetime makes the credentials issued from now on live d.
	SetTokenLifetime func(d time.Duration)
	// Break makes every cloud endpoint refuse (an HTTP error); Flood makes
	// them answer 200 with an endless body; Restore undoes both, Deny and
	// any SetTokenLifetime.
	Break, Flood, Restore func()
	// Deny makes the calls that issue the registry credential (those
	// TokenCalls counts) refuse with HTTP 403, as the cloud answers a caller
	// whose permission was taken away, while everything else works.
	Deny func()
	// Valid reports whether user/pass is a credential the cloud issued.
	Valid func(user, pass string) bool
	// ServiceAccount is set when the role supports KEP-4412 mode.
	ServiceAccount *ServiceAccount
}

// ServiceAccount describes a role's service-account mode.
type ServiceAccount struct {
	// Annotations on the service account select the pod identity.
	Annotations map[string]string
	// Token returns a service-account token the cloud accepts, a new one
	// at each call; nil means Token below (a JWT-shaped token that clouds
	// which do not verify it accept).
	Token func() string
	// BreakExchange makes the pod-identity exchange fail while the node's
	// identity still works (Restore undoes it).
	BreakExchange func()
}

var tokens atomic.Int64

// Token returns a new JWT-shaped service-account token (unsigned: kcred
// never verifies it, emulators that do not either accept it).
func Token() string {
	enc := base64.RawURLEncoding.EncodeToString
	claims := fmt.Sprintf(`{"iss":"https://oidc.example","sub":"system:serviceaccount:app:puller","aud":["sts"],"jti":"%d"}`, tokens.Add(1))
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func (sa *ServiceAccount) token() string {
	if sa.Token != nil {
		return sa.Token()
	}
	return Token()
}

// APIVersions are the request apiVersions every role answers.
var APIVersions = []string{plugin.APIVersionV1alpha1, plugin.APIVersionV1beta1, plugin.APIVersionV1}

// Request is a CredentialProviderRequest as the kubelet writes it.
type Request struct {
	APIVersion  string            `json:"apiVersion"`
	Kind        string            `json:"kind"`
	Image       string            `json:"image"`
	SAToken     string            `json:"serviceAccountToken,omitempty"`
	Annotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// NewRequest is a v1 request for image.
func NewRequest(image string) Request {
	return Request{APIVersion: plugin.APIVersionV1, Kind: "CredentialProviderRequest", Image: image}
}

// Response is a CredentialProviderResponse as the kubelet reads it.
type Response = exectest.Response

// Result is one exec's outcome.
type Result struct {
	Code           int
	Stdout, Stderr string
	Wall           time.Duration
	MaxRSS         int64
}

// Response decodes the result's stdout.
func (r Result) Response(t testing.TB) Response {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.Code, r.Stderr)
	}
	var out Response
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("response %q: %v", r.Stdout, err)
	}
	return out
}

// Main runs the role in-process as the kubelet would exec it, with the
// token cache in cacheDir.
func (w *World) Main(t testing.TB, cacheDir string, req Request, flags ...string) Result {
	t.Helper()
	b, _ := json.Marshal(req)
	var stdout, stderr bytes.Buffer
	args := append(append(append([]string{}, w.Args...), "--cache-dir="+cacheDir), flags...)
	start := time.Now()
	code := plugin.Main(w.Role, "test", args, bytes.NewReader(b), &stdout, &stderr)
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String(), Wall: time.Since(start)}
}

// Exec runs the built binary under the role's name, as the kubelet does.
func (w *World) Exec(t testing.TB, bin, cacheDir string, req Request, flags ...string) Result {
	t.Helper()
	b, _ := json.Marshal(req)
	env := append(append(exectest.CleanEnv(t), w.Env...), "KCRED_CACHE_DIR="+cacheDir)
	res := exectest.Run(t, bin, append(append([]string{}, w.Args...), flags...), env, string(b))
	return Result{Code: res.Code, Stdout: res.Stdout, Stderr: res.Stderr, Wall: res.Wall, MaxRSS: res.MaxRSS}
}

// Run runs every check against w. It needs the loopback-only network
// namespace `make test` provides.
func Run(t *testing.T, w *World) {
	exectest.RequireIsolatedNetwork(t)
	// Built before the environment changes below: HOME moves, and with it
	// the default Go caches.
	exectest.Binary(t)
	w.Setenv(t)
	checks := []struct {
		name string
		run  func(t *testing.T, w *World)
	}{
		{"AnswersEveryAPIVersion", checkAPIVersions},
		{"ForeignRegistryEmptyNoTraffic", checkForeign},
		{"WarmHitNoNetwork", checkWarmHit},
		{"NearExpiryRefetched", checkNearExpiry},
		{"ExpiredNeverServed", checkExpired},
		{"StaleServedWhenCloudFails", checkStale},
		{"FailureOneLine", checkFailure},
		{"NoSecretsAtV10", checkNoSecrets},
		{"ServiceAccountMode", checkServiceAccount},
		{"ExecConcurrentColdOneCall", checkConcurrent},
		{"ExecFailureOneLine", checkExecFailure},
		{"ExecEndlessBodyBounded", checkFlood},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			w.restoreAfter(t)
			c.run(t, w)
		})
	}
}

func (w *World) request() Request { return NewRequest(w.Image) }

// restoreAfter returns the cloud to working order when t ends, so that what
// a check broke does not leak into the next.
func (w *World) restoreAfter(t *testing.T) {
	t.Cleanup(func() {
		if w.Restore != nil {
			w.Restore()
		}
	})
}

// credential checks a successful answer for w.Registry and returns it.
func (w *World) credential(t testing.TB, out Response) (user, pass string) {
	t.Helper()
	a, ok := out.Auth[w.Registry]
	if !ok || a.Username == "" || a.Password == "" {
		t.Fatalf("answer has no credential under %q: %+v", w.Registry, out.Auth)
	}
	if out.CacheKeyType != "Registry" {
		t.Errorf("cacheKeyType %q, want Registry", out.CacheKeyType)
	}
	if w.Valid != nil && !w.Valid(a.Username, a.Password) {
		t.Errorf("credential for %s is not one the cloud issued", w.Registry)
	}
	return a.Username, a.Password
}

func checkAPIVersions(t *testing.T, w *World) {
	dir := t.TempDir()
	for _, v := range APIVersions {
		req := w.request()
		req.APIVersion = v
		out := w.Main(t, dir, req).Response(t)
		if out.APIVersion != v || out.Kind != "CredentialProviderResponse" {
			t.Errorf("request %s answered as %s %s", v, out.Kind, out.APIVersion)
		}
		w.credential(t, out)
		if d, err := time.ParseDuration(out.CacheDuration); err != nil || d <= 0 {
			t.Errorf("%s: cacheDuration %q, want a positive duration", v, out.CacheDuration)
		}
	}
}

func checkForeign(t *testing.T, w *World) {
	if w.Foreign == "" {
		t.Skip("the role answers every registry")
	}
	before := w.Traffic()
	out := w.Main(t, t.TempDir(), NewRequest(w.Foreign), "--v=4").Response(t)
	if len(out.Auth) != 0 {
		t.Errorf("foreign image %s answered with %v", w.Foreign, out.Auth)
	}
	if n := w.Traffic() - before; n != 0 {
		t.Errorf("foreign image %s caused %d requests/connections to the cloud", w.Foreign, n)
	}
}

func checkWarmHit(t *testing.T, w *World) {
	dir := t.TempDir()
	_, pass := w.credential(t, w.Main(t, dir, w.request()).Response(t))
	// With the cloud broken, a warm exec still answers, and touches
	// nothing: no connection, no request.
	w.Break()
	before := w.Traffic()
	_, again := w.credential(t, w.Main(t, dir, w.request()).Response(t))
	if again != pass {
		t.Errorf("warm exec answered another credential")
	}
	if n := w.Traffic() - before; n != 0 {
		t.Errorf("warm exec caused %d requests/connections to the cloud", n)
	}
}

// store has an exec fetch a token into the cache dir and checks that the
// next exec is answered from the cache without a token call, so that the
// entry is one the cache serves (stored while fresh). It returns the
// token's password.
func (w *World) store(t *testing.T, dir string) string {
	t.Helper()
	_, pass := w.credential(t, w.Main(t, dir, w.request()).Response(t))
	before := w.TokenCalls()
	if _, again := w.credential(t, w.Main(t, dir, w.request()).Response(t)); again != pass {
		t.Fatalf("the exec after a token was stored answered another credential")
	}
	if n := w.TokenCalls() - before; n != 0 {
		t.Fatalf("the exec after a token was stored made %d token calls, want 0: nothing was cached", n)
	}
	return pass
}

// expireIn moves the expiry of everything cached in dir to d from now, as
// if time had passed since it was stored: the next exec finds an entry
// stored while fresh that is now inside the margin, in its last minute or
// expired. Waiting for that in real time would take minutes (the margin is
// five), and the clock an exec reads is the real one in every package it
// runs through.
func expireIn(t *testing.T, dir string, d time.Duration) {
	t.Helper()
	if n, err := tokencache.SetExpiry(dir, time.Now().Add(d)); err != nil || n == 0 {
		t.Fatalf("move the expiry of the cached token: %d entries, %v", n, err)
	}
}

// refetched checks that an exec on dir, whose entry is no longer fresh,
// asked the cloud once and answered the new token, not the old one.
func (w *World) refetched(t *testing.T, dir, old, why string) {
	t.Helper()
	before := w.TokenCalls()
	out := w.Main(t, dir, w.request()).Response(t)
	_, pass := w.credential(t, out)
	if n := w.TokenCalls() - before; n != 1 {
		t.Errorf("%s: %d token calls, want 1", why, n)
	}
	if pass == old {
		t.Errorf("%s: answered the cached token, not a new one", why)
	}
	if d, err := time.ParseDuration(out.CacheDuration); err != nil || d <= 0 {
		t.Errorf("%s: cacheDuration %q, want the new token's (positive)", why, out.CacheDuration)
	}
}

func checkNearExpiry(t *testing.T, w *World) {
	dir := t.TempDir()
	old := w.store(t, dir)
	// Inside the margin with minutes left: still usable, but the cache
	// must refresh it rather than hand the kubelet a token about to end.
	expireIn(t, dir, plugin.Margin-2*time.Minute)
	w.refetched(t, dir, old, "an entry inside the margin")
}

func checkExpired(t *testing.T, w *World) {
	dir := t.TempDir()
	old := w.store(t, dir)
	expireIn(t, dir, -time.Minute)
	w.refetched(t, dir, old, "an expired entry")
	// With the cloud down, an expired token is no fallback: the pull would
	// fail on it with a 401 that says less than the cloud's error.
	expireIn(t, dir, -time.Minute)
	w.Break()
	OneLine(t, w.Role.Name, w.Main(t, dir, w.request()))
}

// checkStale checks the deliberate fallback (docs/cache.md): when the
// refresh of a cached token inside the margin fails, whether the cloud is
// down or refuses outright (403: the node lost the permission), the cached
// token is answered while more than plugin.StaleMargin of it is left, with
// a warning; in its last minute the cloud's error is.
func checkStale(t *testing.T, w *World) {
	if w.Deny == nil {
		t.Fatal("World.Deny is not set: every cloud-token role must say how its cloud refuses with 403")
	}
	for _, c := range []struct {
		name string
		fail func()
		why  string // what the warning must cite
	}{{"CloudDown", w.Break, ""}, {"Refused403", w.Deny, "403"}} {
		t.Run(c.name, func(t *testing.T) {
			w.restoreAfter(t)
			dir := t.TempDir()
			pass := w.store(t, dir)
			left := plugin.Margin - 2*time.Minute
			expireIn(t, dir, left)
			c.fail()
			res := w.Main(t, dir, w.request())
			out := res.Response(t)
			if _, again := w.credential(t, out); again != pass {
				t.Fatalf("refresh failed: answered another credential than the cached one")
			}
			d, err := time.ParseDuration(out.CacheDuration)
			if err != nil || d <= 0 || d > left-plugin.StaleMargin {
				t.Errorf("stale answer cacheDuration %q, want at most what remains minus %s (%s)", out.CacheDuration, plugin.StaleMargin, left-plugin.StaleMargin)
			}
			if !strings.Contains(res.Stderr, "serving the cached token") || !strings.Contains(res.Stderr, c.why) {
				t.Errorf("stale answer logged no warning citing %q: %q", c.why, res.Stderr)
			}
			// In its last minute a pull may not finish with it: the
			// cloud's error says more than the registry's 401 would.
			expireIn(t, dir, plugin.StaleMargin/2)
			OneLine(t, w.Role.Name, w.Main(t, dir, w.request()))
		})
	}
}

// Bounded runs the built binary as role with args and env (added to
// exectest.CleanEnv) against an endpoint that misbehaves, and checks that the
// exec still fails as it must: one line, within the fetch bound and under
// 64 MiB of memory whatever the endpoint sends. It returns the line.
func Bounded(t *testing.T, role string, args, env []string, req Request) string {
	t.Helper()
	return BoundedWithin(t, plugin.FetchTimeout, role, args, env, req)
}

// ExecSlack is what an exec ended by its own deadline may take past it, as
// its parent measures: process start, the error's way out, a loaded CI
// machine. An endpoint that trickles its body in is ended by that deadline,
// not before it: bound such an exec by the deadline plus ExecSlack.
const ExecSlack = 2 * time.Second

// BoundedWithin is Bounded for an exec that must end within bound: a role's
// request deadline when shorter than the fetch bound.
func BoundedWithin(t *testing.T, bound time.Duration, role string, args, env []string, req Request) string {
	t.Helper()
	b, _ := json.Marshal(req)
	env = append(append(exectest.CleanEnv(t), env...), "KCRED_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"))
	res := exectest.Run(t, exectest.Link(t, role), args, env, string(b))
	line := OneLine(t, role, Result{Code: res.Code, Stdout: res.Stdout, Stderr: res.Stderr})
	if res.MaxRSS > 64<<20 {
		t.Errorf("peak RSS %d MiB, want under 64", res.MaxRSS>>20)
	}
	if res.Wall > bound {
		t.Errorf("took %s, want under %s", res.Wall, bound)
	}
	t.Logf("%s, %d MiB: %s", res.Wall.Round(10*time.Millisecond), res.MaxRSS>>20, line)
	return line
}

// Flooded checks the error line of an exec whose answer was an endless
// body: it gives the cause, httpbound's bound, not a symptom of it (a cut
// JSON document, an SDK's bare summary). instead, when set, is what the
// line says in its place, for an SDK that goes on to another call after
// the failed read and reports that one.
func Flooded(t *testing.T, line, instead string) {
	t.Helper()
	want := httpbound.ErrTooLarge.Error()
	if instead != "" {
		want = instead
	}
	if !strings.Contains(line, want) {
		t.Errorf("error line %q after an endless body does not say %q", line, want)
	}
}

// OneLine checks the failure contract (Result.Failure) of a cloud
// failure, which also ends with its hint: "ROLE: what: why (check)".
func OneLine(t testing.TB, role string, r Result) string {
	t.Helper()
	line := r.Failure(t, role)
	if !strings.HasSuffix(line, ")") {
		t.Errorf("error line %q does not end with a hint: every cloud failure says what to check", line)
	}
	return line
}

func checkFailure(t *testing.T, w *World) {
	w.Break()
	OneLine(t, w.Role.Name, w.Main(t, t.TempDir(), w.request()))
}

func checkNoSecrets(t *testing.T, w *World) {
	dir := t.TempDir()
	req := w.request()
	var token string
	if sa := w.ServiceAccount; sa != nil {
		token = sa.token()
		req.SAToken, req.Annotations = token, sa.Annotations
	}
	res := w.Main(t, dir, req, "--v=10")
	_, pass := w.credential(t, res.Response(t))
	for name, secret := range map[string]string{"password": pass, "service-account token": token} {
		if secret != "" && strings.Contains(res.Stderr, secret) {
			t.Errorf("the %s appears on stderr at --v=10", name)
		}
	}
	w.Break()
	res = w.Main(t, t.TempDir(), req, "--v=10")
	if res.Code != 1 {
		t.Fatalf("broken cloud: exit %d", res.Code)
	}
	if token != "" && strings.Contains(res.Stderr, token) {
		t.Errorf("the service-account token appears on stderr of a failure at --v=10")
	}
}

func checkServiceAccount(t *testing.T, w *World) {
	sa := w.ServiceAccount
	if sa == nil {
		t.Skip("the role has no service-account mode")
	}
	dir := t.TempDir()
	req := func(token string) Request {
		r := w.request()
		r.SAToken, r.Annotations = token, sa.Annotations
		return r
	}
	a, b := sa.token(), sa.token()
	before := w.TokenCalls()
	w.credential(t, w.Main(t, dir, req(a)).Response(t))
	w.credential(t, w.Main(t, dir, req(b)).Response(t))
	w.credential(t, w.Main(t, dir, req(a)).Response(t))
	if n := w.TokenCalls() - before; n != 2 {
		t.Errorf("two pod tokens (one asked twice) made %d token calls, want 2: one entry per token", n)
	}
	// A pod identity that cannot be had is an error, never the node's.
	sa.BreakExchange()
	OneLine(t, w.Role.Name, w.Main(t, t.TempDir(), req(sa.token())))
}

// binary links the built kcred under the role's name.
func (w *World) binary(t testing.TB) string {
	return exectest.Link(t, w.Role.Name)
}

func checkConcurrent(t *testing.T, w *World) {
	bin, dir := w.binary(t), filepath.Join(t.TempDir(), "cache")
	// One environment for all: its paths take part in identity fingerprints.
	env := append(append(exectest.CleanEnv(t), w.Env...), "KCRED_CACHE_DIR="+dir)
	b, _ := json.Marshal(w.request())
	before := w.TokenCalls()
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := exectest.Exec(bin, w.Args, env, string(b))
			if err != nil || res.Code != 0 {
				errs <- fmt.Sprintf("exit %d, %v: %s", res.Code, err, res.Stderr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if calls := w.TokenCalls() - before; calls != 1 {
		t.Errorf("%d concurrent cold execs made %d token calls, want 1", n, calls)
	}
}

func checkExecFailure(t *testing.T, w *World) {
	w.Break()
	OneLine(t, w.Role.Name, w.Exec(t, w.binary(t), filepath.Join(t.TempDir(), "cache"), w.request()))
}

func checkFlood(t *testing.T, w *World) {
	if w.Flood == nil {
		t.Skip("the world cannot flood its endpoints")
	}
	w.Flood()
	res := w.Exec(t, w.binary(t), filepath.Join(t.TempDir(), "cache"), w.request())
	OneLine(t, w.Role.Name, res)
	if res.MaxRSS > 64<<20 {
		t.Errorf("endless body: peak RSS %d MiB, want under 64", res.MaxRSS>>20)
	}
	if res.Wall > plugin.FetchTimeout {
		t.Errorf("endless body: %s, want under the fetch bound %s", res.Wall, plugin.FetchTimeout)
	}
}
