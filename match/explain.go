package match

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Result is the outcome of Explain.
type Result struct {
	// Match is URLsMatch's answer.
	Match bool
	// Reason says why there is no match, for an operator fixing a
	// matchImages entry or an auth key; empty on a match. Several problems
	// are joined with "; " in the kubelet's order of checks.
	Reason string
}

// Explain is URLsMatch with the reason for a miss.
func Explain(glob, target string) Result {
	g, gerr := parseSchemeless(glob)
	t, terr := parseSchemeless(target)
	if gerr == nil && terr == nil && g.matches(t) {
		return Result{Match: true}
	}
	switch {
	case gerr != nil:
		return Result{Reason: invalidPattern(glob, gerr)}
	case terr != nil:
		return Result{Reason: "image is not a valid URL: " + terr.Error()}
	}
	if scheme, rest, ok := cutScheme(glob); ok {
		// Host and path are then nonsense ("https" and "//host"): the
		// scheme is the only thing to fix.
		return Result{Reason: fmt.Sprintf("pattern has a scheme (%s): the kubelet never matches it (matchImages entries are used verbatim; write %q)", scheme, rest)}
	}
	var reasons []string
	if i := strings.IndexAny(glob, "?#"); i >= 0 {
		what := "query"
		if glob[i] == '#' {
			what = "fragment"
		}
		reasons = append(reasons, fmt.Sprintf("pattern has %q: it starts a URL %s, so the kubelet matches only %q (only '*' is a glob)", glob[i], what, glob[:i]))
	}
	if g.port != t.port {
		reasons = append(reasons, fmt.Sprintf("port differs: pattern %q vs image %q", g.port, t.port))
	}
	gc, tc := labelCount(g.name), labelCount(t.name)
	if gc != tc {
		r := fmt.Sprintf("label count differs: pattern has %s, image host has %d", plural(gc, "label"), tc)
		if strings.Contains(g.name, "*") {
			r += " ('*' never matches a '.')"
		}
		reasons = append(reasons, r)
	}
	if !strings.HasPrefix(t.path, g.path) {
		if strings.Contains(g.path, "*") {
			reasons = append(reasons, pathGlob(glob))
		} else {
			reasons = append(reasons, fmt.Sprintf("path prefix differs: image path %q does not start with pattern path %q", t.path, g.path))
		}
	}
	if gc == tc {
		reasons = append(reasons, labelReasons(g.name, t.name)...)
	}
	return Result{Reason: strings.Join(reasons, "; ")}
}

// invalidPattern explains a pattern net/url rejects; the kubelet refuses
// such a matchImages entry at start-up and drops such an auth key.
func invalidPattern(glob string, err error) string {
	r := "pattern is not a valid URL: " + err.Error()
	if strings.ContainsAny(glob, "[]") {
		r += " (only '*' is a glob; '[' starts an IPv6 address)"
	}
	return r
}

// pathGlob explains a '*' in the pattern's path, e.g. "*.registry.io/*",
// and suggests the plain prefix that was probably meant.
func pathGlob(glob string) string {
	const r = "pattern has a glob in its path: the kubelet never matches it (a path is a plain prefix"
	slash := strings.IndexByte(glob, '/')
	star := strings.IndexByte(glob, '*')
	if slash >= 0 {
		if i := strings.IndexByte(glob[slash:], '*'); i >= 0 {
			star = slash + i
		}
	}
	if slash < 0 || star < slash {
		// The '*' came from an escape (%2A); no plain-text suggestion.
		return r + ")"
	}
	fix := glob[:star]
	if star == slash+1 {
		fix = glob[:slash] // "host/*" means any path: no path at all
	}
	return fmt.Sprintf("%s; write %q)", r, fix)
}

// labelReasons lists the host labels that do not match, 1-based, for hosts
// with the same number of labels.
func labelReasons(glob, name string) []string {
	var reasons []string
	for i := 1; ; i++ {
		gl, grest, more := strings.Cut(glob, ".")
		tl, trest, _ := strings.Cut(name, ".")
		ok, err := filepath.Match(gl, tl)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("label %d of the pattern is not a valid glob: %q (only '*' is a glob)", i, gl))
		case !ok:
			r := fmt.Sprintf("label %d differs: pattern %q vs image %q", i, gl, tl)
			if strings.ContainsAny(gl, "[\\") {
				r += " (only '*' is a glob; '[' and '\\' are glob syntax)"
			}
			reasons = append(reasons, r)
		}
		if !more {
			return reasons
		}
		glob, name = grest, trest
	}
}

// cutScheme splits "scheme://rest" when glob starts with an RFC 3986
// scheme followed by "://".
func cutScheme(glob string) (scheme, rest string, ok bool) {
	i := strings.Index(glob, "://")
	if i <= 0 {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		c := glob[j]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", "", false
		}
	}
	return glob[:i+3], glob[i+3:], true
}

// plural formats "1 label" or "2 labels".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
