package credhelper

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kcred/kcred/plugin"
)

// redacted replaces a secret, as plugin.Redact writes it.
const redacted = "[redacted]"

// maxSummary bounds the stderr summary, in runes: enough for a helper's
// error message, short enough for one kubelet log line.
const maxSummary = 300

// scanLimit is how much of stderr is examined: the summary is cut far
// shorter, so nothing past this could show.
const scanLimit = 4096

// The patterns are compiled on first use (a failing helper), not at
// package init: init runs on every exec of every role.
var (
	// secretField is a "password=...", "token: ..." style pair: the value
	// goes.
	secretField = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|token|api[-_]?key|access[-_]?key|authorization|credentials?)s?["']?\s*[=:]\s*(?:bearer\s+|basic\s+)?)("[^"]*"|'[^']*'|[^\s,;&"']+)`)
	})
	// authScheme is an HTTP "Bearer ..." or "Basic ..." credential.
	authScheme = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b((?:bearer|basic)\s+)([A-Za-z0-9+/_.~-]+=*)`)
	})
	// urlPassword is the password of a URL's user info
	// ("https://alice:PASSWORD@vault.example"): it goes, the user stays.
	urlPassword = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^\s/?#@:]*:)[^\s/?#]*@`)
	})
	// tokenLike is a long run of token characters (base64, hex, a JWT);
	// redactToken keeps those without both letters and digits.
	tokenLike = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`[A-Za-z0-9+/_.~-]{20,}=*`)
	})
)

// summarise returns the helper's stderr fit for a log line or an error:
// every known secret (what the helper answered, with plugin.Redact) and
// anything token-looking redacted, on one line, control characters
// escaped, at most maxSummary runes.
func summarise(stderr string, known ...string) string {
	total := len(stderr)
	// Known secrets before the cut, so none is left half-visible.
	stderr = plugin.Redact(stderr, known...)
	if len(stderr) > scanLimit {
		stderr = stderr[:scanLimit]
	}
	s := plugin.OneLine(escapeControls(stderr))
	s = urlPassword().ReplaceAllString(s, "${1}"+redacted+"@")
	s = secretField().ReplaceAllString(s, "$1"+redacted)
	s = authScheme().ReplaceAllString(s, "$1"+redacted)
	s = tokenLike().ReplaceAllStringFunc(s, redactToken)
	if utf8.RuneCountInString(s) > maxSummary {
		s = string([]rune(s)[:maxSummary]) + fmt.Sprintf("... (%d bytes in all)", total)
	}
	return s
}

// details is `, stderr: "SUMMARY"` for an error message, or "" when the
// helper wrote nothing on stderr. The summary is quoted: it is the
// helper's text, and may hold parentheses that would read as the hint.
func details(stderr string) string {
	s := summarise(stderr)
	if s == "" {
		return ""
	}
	return ", stderr: " + plugin.Quote(s)
}

func redactToken(s string) string {
	if !strings.ContainsAny(s, "0123456789") || strings.IndexFunc(s, isLetter) < 0 {
		return s
	}
	return redacted
}

func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// escapeControls writes control characters (C0 but for white space, DEL,
// C1) and invalid UTF-8 as \xNN, so a helper cannot forge log lines or
// drive a terminal; white space is folded later.
func escapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
