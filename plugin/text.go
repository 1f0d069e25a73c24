package plugin

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxQuoted bounds a piece of untrusted text (from the request, a cloud or
// a child process) quoted in an error or a log line.
const MaxQuoted = 512

// MaxErrorLine bounds the one line a failing exec prints on stderr.
const MaxErrorLine = 2048

// cutMarker ends text that was cut to a bound.
const cutMarker = "...[cut]"

// Quote returns untrusted text s for an error message: double-quoted, with
// control characters and invalid UTF-8 escaped, cut to MaxQuoted bytes of
// input with a marker.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s, MaxQuoted)) + cutMarker
}

// Bound cuts untrusted text s to MaxQuoted bytes (with a marker), for log
// attributes: the logger escapes control characters itself.
func Bound(s string) string {
	if len(s) <= MaxQuoted {
		return s
	}
	return cut(s, MaxQuoted) + cutMarker
}

// cut returns at most n bytes of s, not splitting a UTF-8 sequence.
func cut(s string, n int) string {
	s = s[:n]
	for i := 0; i < utf8.UTFMax && !utf8.ValidString(s); i++ {
		s = s[:len(s)-1]
	}
	return s
}

// jwtPattern finds JSON Web Tokens (and JWS/JWE-like dotted base64url
// blobs starting with a JSON header) wherever they appear in text.
var jwtPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}(\.[A-Za-z0-9_-]*)*`)
})

// Redact replaces every occurrence of each secret in s, and anything shaped
// like a JWT, with "[redacted]". Secrets shorter than 4 bytes are ignored:
// replacing them would garble the text and they are not worth hiding.
func Redact(s string, secrets ...string) string {
	// Longest first: a secret containing a shorter one is hidden whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	if strings.Contains(s, "eyJ") {
		s = jwtPattern().ReplaceAllString(s, "[redacted]")
	}
	return s
}

// secretFieldPattern finds the value of a token-bearing field written as a
// form pair (subject_token=VALUE), a JSON member ("access_token": "VALUE",
// also inside an already quoted string) or a header-like pair: endpoints
// and proxies echo requests in their error bodies, and a token that is not
// JWT-shaped (an opaque subject token, a refresh token) escapes Redact. A
// quoted value is matched to its closing quote (a PEM key, a password with
// spaces), or to the end of a text that was cut inside it.
var secretFieldPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)((?:subject|access|id|refresh|actor|session)_?token|assertion|client_?secret|private_?key(?:_id)?|password)` +
		`(\\?["']?\s*[:=]\s*)` +
		`(\\"(?:[^\\]|\\[^"])*(?:\\"|$)|"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|[^"'&\s,;}\\]+)`)
})

// secretFieldNames are lowercase pieces of every field name the pattern
// knows: the regexp is built only when one of them is present.
var secretFieldNames = []string{"token", "assertion", "secret", "key", "password"}

// RedactFields replaces the value of every token-bearing field (form, JSON
// or header-like: subject_token, access_token, id_token, refresh_token,
// assertion, client_secret, private_key, password and their camelCase
// spellings) in untrusted text s with "[redacted]", keeping the names and
// quotes so that the text still says what was sent.
func RedactFields(s string) string {
	lower := strings.ToLower(s)
	if !slices.ContainsFunc(secretFieldNames, func(n string) bool { return strings.Contains(lower, n) }) {
		return s
	}
	re := secretFieldPattern()
	return re.ReplaceAllStringFunc(s, func(m string) string {
		g := re.FindStringSubmatch(m)
		value := g[3]
		quote := ""
		for _, q := range []string{`\"`, `"`, `'`} {
			if strings.HasPrefix(value, q) {
				quote = q
				break
			}
		}
		closing := ""
		if quote != "" && len(value) > len(quote) && strings.HasSuffix(value, quote) {
			closing = quote
		}
		return g[1] + g[2] + quote + "[redacted]" + closing
	})
}

// Sanitize makes untrusted text safe for one stderr line: folded onto one
// line, the secrets, anything JWT-shaped and the values of token-bearing
// fields (RedactFields) redacted, control characters and invalid UTF-8
// replaced, cut to MaxErrorLine bytes with a marker.
func Sanitize(s string, secrets ...string) string {
	// Redact before folding: a multi-line secret matches only as it was.
	s = RedactFields(OneLine(goNotes.Replace(Redact(s, secrets...))))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > MaxErrorLine {
		s = cut(s, MaxErrorLine) + cutMarker
	}
	return s
}

// goNotes rewrites the parenthesised notes net/http appends to the errors
// of a client with a Timeout (every SDK client and kcred's own have one): in
// the one line they would read as a second hint, before the real one.
var goNotes = strings.NewReplacer(
	" (Client.Timeout exceeded while awaiting headers)", ": the attempt timed out awaiting headers",
	" (Client.Timeout or context cancellation while reading body)", ": the attempt timed out or was canceled while reading the body",
)

// errorLine is what a failing exec prints (see Sanitize).
func errorLine(role string, err error, secrets ...string) string {
	return role + ": " + Sanitize(err.Error(), secrets...)
}
