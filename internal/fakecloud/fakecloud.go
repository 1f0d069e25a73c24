// Package fakecloud holds loopback emulators of the cloud endpoints kcred
// talks to (one per cloud, each an http.Handler), with call recording and
// fault injection, plus a loopback HTTPS proxy with a test CA that routes real
// host names to them. Tests and `kcred demo` use the same emulators; the node
// binary never links this package.
package fakecloud

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Call is one request an emulator received.
type Call struct {
	// Op names the operation, e.g. "ecr:GetAuthorizationToken".
	Op string
	// Host is the Host header the request carried.
	Host string
	// Header is a copy of the request headers.
	Header http.Header
	// Form holds the parsed form or selected JSON fields, for assertions.
	Form map[string]string
}

// Recorder records calls; safe for concurrent use. Embed it in an emulator.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Record appends c.
func (r *Recorder) Record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// Calls returns a copy of the recorded calls, optionally only those whose
// Op is one of ops.
func (r *Recorder) Calls(ops ...string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if len(ops) == 0 || contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many calls of op (any op when empty) were recorded.
func (r *Recorder) Count(op string) int {
	if op == "" {
		return len(r.Calls())
	}
	return len(r.Calls(op))
}

// Reset forgets all recorded calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Fault is an injected failure for an operation.
type Fault struct {
	// Status, when non-zero, is returned instead of the normal answer.
	Status int
	// Body is the body sent with Status (or, with Status zero, replaces the
	// normal body: use it for malformed answers).
	Body string
	// Delay is slept before answering (slow clouds).
	Delay time.Duration
	// Times is how many calls the fault applies to; 0 means every call.
	Times int
	// Endless answers 200 with a body that never ends (until the client
	// goes away), as a hostile or broken endpoint might.
	Endless bool
	// Echo answers Status (400 when zero) with Body followed by the
	// request's body, as some endpoints and proxies do in error answers:
	// the request's secrets (a subject token, an assertion) come back in
	// the error. Only with ApplyRequest, on emulators that leave the body
	// readable.
	Echo bool
	// Hang makes the endpoint a black hole: it never answers, until the
	// client gives up (with ApplyRequest; Apply, which cannot see the
	// client, gives up after hangCap). Status and Body are then unused.
	Hang bool
	// Trickle answers 200 with Body (TricklePrefix when empty), a prefix
	// that looks like the start of a valid answer, then one more byte every
	// TrickleEvery, forever (until the client goes away, or hangCap): a
	// body that stays far under any size bound, so only the caller's
	// deadline can end the read.
	Trickle bool
}

// TricklePrefix is what a Trickle fault sends first when its Body is
// empty: the start of a JSON token answer, so that a client that parses
// as it reads keeps reading.
const TricklePrefix = `{"access_token":"`

// TrickleEvery is the pace of a Trickle fault: slow enough that a read
// never ends, fast enough that an idle-read timeout never fires.
const TrickleEvery = 500 * time.Millisecond

// hangCap bounds a Hang fault that cannot see its client, so that a test
// server's Close never waits forever.
const hangCap = time.Minute

// Faults holds injected faults per operation; safe for concurrent use.
// Embed it in an emulator.
type Faults struct {
	mu     sync.Mutex
	faults map[string]*Fault
}

// Inject makes op fail as f describes, replacing any earlier fault for op.
func (fs *Faults) Inject(op string, f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.faults == nil {
		fs.faults = map[string]*Fault{}
	}
	fs.faults[op] = &f
}

// InjectAll makes each of ops fail as f describes.
func (fs *Faults) InjectAll(f Fault, ops ...string) {
	for _, op := range ops {
		fs.Inject(op, f)
	}
}

// Clear removes every injected fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = nil
}

// Apply applies the fault for op, if any: it sleeps Delay and, when the fault
// writes an answer, writes it to w and returns true (the emulator must then
// not answer itself).
func (fs *Faults) Apply(op string, w http.ResponseWriter) bool {
	return fs.ApplyRequest(op, w, nil)
}

// ApplyRequest is Apply for the request r: Delay and Hang end early when
// r's client goes away, so a black-holed call never outlives its client.
func (fs *Faults) ApplyRequest(op string, w http.ResponseWriter, r *http.Request) bool {
	fs.mu.Lock()
	f, ok := fs.faults[op]
	if ok && f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(fs.faults, op)
		}
	}
	var fault Fault
	if ok {
		fault = *f
	}
	fs.mu.Unlock()
	if !ok {
		return false
	}
	var gone <-chan struct{}
	if r != nil {
		gone = r.Context().Done()
	}
	wait := fault.Delay
	if fault.Hang {
		wait = hangCap
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-gone:
			t.Stop()
			return true
		}
	}
	if fault.Hang {
		return true
	}
	if fault.Endless {
		endless(w)
		return true
	}
	if fault.Trickle {
		trickle(w, fault.Body, gone)
		return true
	}
	if fault.Echo {
		var echo []byte
		if r != nil {
			echo, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
		}
		status := fault.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		_, _ = w.Write(append([]byte(fault.Body), echo...))
		return true
	}
	if fault.Status == 0 && fault.Body == "" {
		return false
	}
	status := fault.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(fault.Body))
	return true
}

// endless writes a JSON-looking body forever, until the client hangs up.
func endless(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	chunk := []byte(strings.Repeat(`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},`, 1024))
	_, _ = w.Write([]byte("["))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// trickle writes prefix (TricklePrefix when empty) and then one byte every
// TrickleEvery, flushing each, until the client hangs up (gone, or a
// failed write when gone is nil) or hangCap passes.
func trickle(w http.ResponseWriter, prefix string, gone <-chan struct{}) {
	if prefix == "" {
		prefix = TricklePrefix
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := io.WriteString(w, prefix); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(TrickleEvery)
	defer tick.Stop()
	limit := time.NewTimer(hangCap)
	defer limit.Stop()
	for {
		select {
		case <-gone:
			return
		case <-limit.C:
			return
		case <-tick.C:
		}
		if _, err := w.Write([]byte("a")); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// signJWT makes an HS256 JWT of claims with key, adding a random jti so
// that every token is unique.
func signJWT(key []byte, claims map[string]any) string {
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims["jti"] = base64.RawURLEncoding.EncodeToString(jti)
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	msg := head + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}
