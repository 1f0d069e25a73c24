package match

import (
	"net"
	"net/url"
	"strings"
)

// schemeless is a schemeless URL split the way the kubelet's
// ParseSchemelessURL and SplitURL split it.
type schemeless struct {
	name string // host without port; labels are separated by '.'
	port string // text after the host's last ':', "" when absent
	path string // decoded URL path; query and fragment are dropped
}

// parseSchemeless parses s as the kubelet does: url.Parse("https://"+s),
// then net.SplitHostPort on the host, falling back to the whole host with
// an empty port.
func parseSchemeless(s string) (schemeless, error) {
	if host, path, ok := splitPlain(s); ok {
		// A plain host has at most one colon and no brackets, so this is
		// what net.SplitHostPort (or its fallback) returns.
		name, port, _ := strings.Cut(host, ":")
		return schemeless{name: name, port: port, path: path}, nil
	}
	return parseURL(s)
}

// parseURL is the kubelet's parse: url.Parse with https:// prepended, then
// net.SplitHostPort, the whole host being the name when that fails. The
// splitPlain fast path must agree with it (a fuzz target checks).
func parseURL(s string) (schemeless, error) {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return schemeless{}, err
	}
	name, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		name, port = u.Host, ""
	}
	return schemeless{name: name, port: port, path: u.Path}, nil
}

// hostPath returns url.Parse("https://"+s)'s Host and Path.
func hostPath(s string) (host, path string, err error) {
	if h, p, ok := splitPlain(s); ok {
		return h, p, nil
	}
	u, err := url.Parse("https://" + s)
	if err != nil {
		return "", "", err
	}
	return u.Host, u.Path, nil
}

// splitPlain splits s into url.Parse("https://"+s)'s Host and Path when
// s is plain: host[:digits][/path] made of letters, digits, "-._~*" (and
// ':' in the path), which net/url returns unchanged. Splitting it here keeps
// matching allocation-free; ok is false for anything else (escapes,
// userinfo, IPv6 literals, queries, fragments, several colons), which
// net/url then decides exactly as in the kubelet.
func splitPlain(s string) (host, path string, ok bool) {
	colon := -1
	slash := len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '_', c == '~', c == '*':
		case c == '/':
			if slash == len(s) {
				slash = i
			}
		case c == ':':
			if slash == len(s) {
				if colon >= 0 {
					return "", "", false // several colons: net/url rejects or rewrites
				}
				colon = i
			}
		default:
			return "", "", false
		}
	}
	if colon >= 0 {
		// net/url accepts only digits after the host's colon.
		for i := colon + 1; i < slash; i++ {
			if s[i] < '0' || s[i] > '9' {
				return "", "", false
			}
		}
	}
	return s[:slash], s[slash:], true
}
