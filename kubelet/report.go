package kubelet

import (
	"slices"
	"strings"
	"time"
)

// Report is the result of `kcred check`: the start-up verdict and, per image,
// what the kubelet would do. Its JSON form is documented in docs/check.md and
// is also what test/kubelet's judge prints for the real kubelet.
type Report struct {
	// Error is the kubelet's start-up error; empty when it would start.
	Error string `json:"error,omitempty"`
	// Warnings are problems the kubelet does not report but that will make a
	// provider silently never work.
	Warnings []string `json:"warnings,omitempty"`
	// ConfigFiles are the config files read, in the kubelet's order.
	ConfigFiles []string `json:"configFiles,omitempty"`
	// ConfigHash is the kubelet's config hash metric value.
	ConfigHash string         `json:"configHash,omitempty"`
	Images     []*ImageReport `json:"images"`
}

// ImageReport is one simulated image lookup.
type ImageReport struct {
	// Image is the image as given.
	Image string `json:"image"`
	// Normalized is the repository the kubelet matches and sends to plugins.
	Normalized string `json:"normalized,omitempty"`
	// Error is set when the image does not parse (the pull fails before any
	// lookup).
	Error       string            `json:"error,omitempty"`
	Providers   []*ProviderReport `json:"providers"`
	Credentials []Credential      `json:"credentials"`
}

// ProviderReport is what one provider did for one image.
type ProviderReport struct {
	Name    string `json:"name"`
	Matched bool   `json:"matched"`
	// MatchReason explains the matchImages verdict.
	MatchReason string `json:"matchReason,omitempty"`
	// Skipped says why a matched provider was silently skipped in
	// service-account mode.
	Skipped  string `json:"skipped,omitempty"`
	Executed bool   `json:"executed"`
	CacheHit bool   `json:"cacheHit"`
	// Request is the stdin sent to the plugin.
	Request string `json:"request,omitempty"`
	// Stderr is the plugin's stderr.
	Stderr string `json:"stderr,omitempty"`
	// Error is the kubelet's error for this provider; the provider then
	// contributes nothing and the pull goes on.
	Error string `json:"error,omitempty"`
	// ErrorClass is ErrorClass(Error).
	ErrorClass    string `json:"errorClass,omitempty"`
	CacheKeyType  string `json:"cacheKeyType,omitempty"`
	CacheDuration string `json:"cacheDuration,omitempty"`
	// CacheKey is the base key (image, registry or <global>) the answer was
	// found under or stored under.
	CacheKey string `json:"cacheKey,omitempty"`
	// CachedUntil is when the stored answer expires; nil when not cached.
	CachedUntil *time.Time `json:"cachedUntil,omitempty"`
	// Auth are the registry keys the provider answered (or the cache held).
	Auth []string `json:"auth,omitempty"`

	// passwords are every password of the answer, for Redact: one whose key
	// never matched the image is in no credential list but may still be
	// echoed in the plugin's stderr.
	passwords []string
}

func (pr *ProviderReport) notePasswords(auth map[string]AuthConfig) {
	for _, a := range auth {
		if a.Password != "" {
			pr.passwords = append(pr.passwords, a.Password)
		}
	}
}

// Credential is one entry of the list the kubelet hands the container
// runtime, in the order it tries them.
type Credential struct {
	Key      string `json:"key"`
	Provider string `json:"provider"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Redacted is the placeholder shown for secrets.
const Redacted = "<redacted>"

// Redact replaces every password a provider returned and the
// service-account token in r: in the credential list, and wherever a plugin
// echoed one into its stderr or an error. A password shorter than
// minEchoLen is replaced in free text only as a whole word, so that
// redacting "ab" does not garble every word containing it.
func (r *Report) Redact(token string) {
	var secrets []string
	if token != "" {
		secrets = append(secrets, token)
	}
	for _, img := range r.Images {
		for _, c := range img.Credentials {
			secrets = append(secrets, c.Password)
		}
		for _, p := range img.Providers {
			secrets = append(secrets, p.passwords...)
		}
	}
	// Longest first: a password containing a shorter one is hidden whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	redact := func(text string) string {
		for _, s := range secrets {
			switch {
			case s == "":
			case len(s) >= minEchoLen:
				text = strings.ReplaceAll(text, s, Redacted)
			default:
				text = replaceWord(text, s)
			}
		}
		return text
	}
	for _, img := range r.Images {
		for i := range img.Credentials {
			img.Credentials[i].Password = Redacted
		}
		for _, p := range img.Providers {
			p.Request, p.Stderr, p.Error = redact(p.Request), redact(p.Stderr), redact(p.Error)
		}
	}
}

// replaceWord replaces occurrences of w in text that are not part of a
// longer run of letters, digits or symbols other than spaces and quotes.
func replaceWord(text, w string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, w)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		before, after := i == 0 || isBoundary(text[i-1]), i+len(w) == len(text) || isBoundary(text[i+len(w)])
		b.WriteString(text[:i])
		if before && after {
			b.WriteString(Redacted)
		} else {
			b.WriteString(w)
		}
		text = text[i+len(w):]
	}
}

func isBoundary(c byte) bool {
	return strings.IndexByte(" \t\n\r\"'`,:;=()[]{}<>", c) >= 0
}

// minEchoLen is the shortest password Redact looks for in free text.
const minEchoLen = 6

// Error classes, for comparing the simulator with the real kubelet.
var errorClasses = []struct{ substr, class string }{
	{"error execing credential provider plugin", "exec"},
	{"error reading GVK from response", "gvk"},
	{"apiVersion from credential plugin response did not match", "apiVersion"},
	{"error decoding credential provider plugin response", "decode"},
	{"did not return a valid cacheKeyType", "cacheKeyType"},
	{"returned the service account token as the password", "tokenEcho"},
	{"failed to get service account token", "serviceAccountToken"},
	{"failed to get service account", "serviceAccount"},
}

// ErrorClass names the kind of a kubelet provider error ("" for none).
func ErrorClass(msg string) string {
	if msg == "" {
		return ""
	}
	for _, c := range errorClasses {
		if strings.Contains(msg, c.substr) {
			return c.class
		}
	}
	return "other"
}
