package match

import (
	"path/filepath"
	"strings"
)

// URLsMatch is the kubelet's URLsMatchStr(glob, target): whether target (a
// normalised image or an auth key) matches glob (a matchImages entry or a
// normalised auth key).
//
// Both are parsed as schemeless URLs; a parse error is a miss. Ports must be
// equal as text, hosts must have the same number of '.'-separated labels,
// the target's path must start with the glob's path (a byte prefix, no
// globbing), and each host label must match its glob label with
// filepath.Match, so '*' matches within one label only.
func URLsMatch(glob, target string) bool {
	g, err := parseSchemeless(glob)
	if err != nil {
		return false
	}
	t, err := parseSchemeless(target)
	if err != nil {
		return false
	}
	return g.matches(t)
}

// matches is the kubelet's URLsMatch on parsed URLs, in its order of checks.
func (g schemeless) matches(t schemeless) bool {
	if g.port != t.port {
		return false
	}
	if labelCount(g.name) != labelCount(t.name) {
		return false
	}
	if !strings.HasPrefix(t.path, g.path) {
		return false
	}
	gn, tn := g.name, t.name
	for {
		gl, grest, more := strings.Cut(gn, ".")
		tl, trest, _ := strings.Cut(tn, ".")
		// A malformed glob label is a miss, as in the kubelet (whose
		// callers ignore the error).
		if ok, err := filepath.Match(gl, tl); err != nil || !ok {
			return false
		}
		if !more {
			return true
		}
		gn, tn = grest, trest
	}
}

// labelCount is len(strings.Split(name, ".")) without the allocation.
func labelCount(name string) int {
	return strings.Count(name, ".") + 1
}
