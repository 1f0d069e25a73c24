package kubelet

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Warnings lists what the kubelet accepts without a word but will silently
// never work: matchImages entries that can match nothing, service-account
// audiences that need a grant the config cannot show, and providers whose
// binary is missing from binDir (skipped when binDir is empty).
func Warnings(cfg *Config, binDir string) []string {
	var out []string
	for _, p := range cfg.Providers {
		warn := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("provider %q: ", p.Name)+fmt.Sprintf(format, args...))
		}
		for _, mi := range p.MatchImages {
			for _, w := range matchImageWarnings(mi) {
				warn("matchImages entry %q %s", mi, w)
			}
		}
		if t := p.TokenAttributes; t != nil && t.ServiceAccountTokenAudience != "" {
			warn("the kubelet can only get a token for audience %q if nodes are granted it (ClusterRole rule: apiGroups [\"\"], resources [%q], verbs [\"request-serviceaccounts-token-audience\"]) or a pod uses it in a projected token volume; without that, every TokenRequest is refused and the plugin never runs", t.ServiceAccountTokenAudience, t.ServiceAccountTokenAudience)
		}
		if p.Name == "" {
			warn("the name is empty: the kubelet would look for the bin dir itself as the plugin binary")
			continue
		}
		if binDir != "" {
			if _, err := exec.LookPath(filepath.Join(binDir, p.Name)); err != nil {
				warn("no executable %s (the kubelet refuses to start: %v)", filepath.Join(binDir, p.Name), err)
			}
		}
	}
	return out
}

// matchImageWarnings says why a matchImages entry can never match an image.
func matchImageWarnings(mi string) []string {
	if mi == "" {
		return []string{"is empty: it never matches any image"}
	}
	if i := strings.Index(mi, "://"); i >= 0 {
		return []string{fmt.Sprintf("has a scheme: the kubelet uses entries verbatim, so it never matches (write %q)", mi[i+3:])}
	}
	var out []string
	host, path, _ := strings.Cut(mi, "/")
	if strings.Contains(path, "*") {
		out = append(out, "has '*' in its path: paths are plain prefixes, so the '*' is literal and it never matches a real image")
	}
	if _, port, ok := strings.Cut(host, ":"); ok && strings.Contains(port, "*") {
		out = append(out, "has '*' in its port: ports must be equal strings, so it never matches")
	}
	if strings.ContainsAny(mi, "?#") {
		out = append(out, "contains '?' or '#': it starts a URL query or fragment, so only '*' works as a glob")
	}
	if strings.Contains(host, "[") {
		out = append(out, "contains '[': it is parsed as an IPv6 literal, not a character class")
	}
	return out
}
