package cloudtoken

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/plugin"
)

// HTTPClient returns the client every cloud call of a role goes through,
// SDK clients included (pass it as their HTTP client or transport): bodies
// bounded by httpbound.MaxBody, dial/TLS/header timeouts, each attempt
// limited to attempt (zero: only the fetch context bounds it), proxies and
// CA roots from the standard environment (HTTPS_PROXY, NO_PROXY,
// SSL_CERT_FILE).
func HTTPClient(attempt time.Duration) *http.Client {
	return httpbound.Client(attempt)
}

// Transport returns a bounded transport (see HTTPClient), for SDKs that take
// an http.RoundTripper.
func Transport() http.RoundTripper { return httpbound.Transport() }

// IsTimeout reports whether err is a deadline: the fetch bound's or one
// attempt's.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// IsNetwork reports whether err is a failure to reach an endpoint or to
// read its answer: refused, reset, unresolvable, TLS, cut short. A body
// over the size bound is not one (see IsMalformed).
func IsNetwork(err error) bool {
	if httpbound.IsTooLarge(err) {
		return false
	}
	var oe *net.OpError
	var de *net.DNSError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ue) ||
		errors.Is(err, io.ErrUnexpectedEOF) || IsTimeout(err)
}

// MalformedError is an answer that arrived but is not what the cloud
// sends: unparseable, missing fields, absurd numbers, too large.
type MalformedError struct{ msg string }

// Error returns the description.
func (e *MalformedError) Error() string { return e.msg }

// Malformed returns a MalformedError. Never put the answer's text in it
// unquoted: use plugin.Quote, and never a token.
func Malformed(format string, args ...any) error {
	return &MalformedError{msg: fmt.Sprintf(format, args...)}
}

// IsMalformed reports whether err is a MalformedError or an oversized body.
func IsMalformed(err error) bool {
	var me *MalformedError
	return errors.As(err, &me) || httpbound.IsTooLarge(err)
}

// ServiceAccountFingerprint is the cache-key fingerprint of a pod's
// service-account token: a hash of the whole token, so that a credential is
// only ever served for the very token the cloud accepted (kcred does not
// verify the token, so its claims prove nothing).
func ServiceAccountFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sa:" + hex.EncodeToString(sum[:])
}

// Hash returns a hex SHA-256 of parts, for fingerprints that must not hold
// their inputs in clear (secrets, file contents).
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// JWTExpiry reads the exp claim of a JWT without verifying it: kcred only
// needs to know when to stop using a token. ok is false when tok is not a
// JWT or has no usable exp.
func JWTExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(body, &claims); err != nil {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Float64()
	if err != nil || exp <= 0 || math.IsNaN(exp) || math.IsInf(exp, 0) {
		return time.Time{}, false
	}
	// Converting a float beyond int64 is implementation-defined: bound it
	// (1e12 s is year 33658; the driver's lifetime cap applies anyway).
	return time.Unix(int64(math.Min(exp, 1e12)), 0), true
}

// Seconds converts a lifetime in seconds from a cloud's answer (expires_in)
// to a duration, refusing what no token endpoint sends: non-finite,
// negative, or beyond ten years.
func Seconds(s float64) (time.Duration, error) {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 || s > 10*365*24*3600 {
		return 0, Malformed("lifetime %v seconds is not a token lifetime", s)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// ErrorAnswer words a refused HTTP call of a token endpoint (OAuth 2.0,
// STS, IAM, a metadata server) for an error message: the status code and
// only the standard error fields parsed from a JSON body, RFC 6749's
// "error" and "error_description" or google.rpc.Status's "error.status"
// and "error.message", each bounded, redacted and quoted. Nothing else of
// the body is kept: endpoints and proxies echo the request in their error
// bodies, and the request carries the subject token, the assertion or the
// client secret. secrets are redacted too.
func ErrorAnswer(status int, body []byte, secrets ...string) string {
	msg := fmt.Sprintf("status %d", status)
	var fields struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"error_description"`
	}
	if json.Unmarshal(body, &fields) != nil {
		return msg
	}
	var code, desc string
	var rpc struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	if json.Unmarshal(fields.Error, &code) != nil && json.Unmarshal(fields.Error, &rpc) == nil {
		code, desc = rpc.Status, rpc.Message
	}
	if fields.Description != "" {
		desc = fields.Description
	}
	for _, f := range []string{code, desc} {
		if f = strings.TrimSpace(f); f != "" {
			msg += ": " + quoteField(f, secrets)
		}
	}
	return msg
}

// quoteField redacts one field of an error answer, then quotes it (which
// bounds it): redacting first, so that no cut leaves half a secret.
func quoteField(s string, secrets []string) string {
	// Redact before folding: a multi-line secret (a PEM key) matches only
	// as it was.
	return plugin.Quote(plugin.RedactFields(plugin.OneLine(plugin.Redact(s, secrets...))))
}
