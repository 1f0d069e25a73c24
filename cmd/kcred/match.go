package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/plugin"
)

const matchUsage = "usage: kcred match [--raw] [--key] PATTERN IMAGE..."

// runMatch implements `kcred match [--raw] [--key] PATTERN IMAGE...`: one
// line per image, "match IMAGE" or "no match IMAGE: reason", where IMAGE is
// the image as the kubelet matches it (normalised, tag and digest stripped,
// unless --raw). PATTERN is a matchImages entry, used verbatim as the
// kubelet does; with --key it is an auth key, normalised and looked up as
// the kubelet's keyring does (including the Docker Hub fallback). Exit 0
// when every image matched, 1 when any did not, 2 on usage errors.
func runMatch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kcred match", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	raw := fs.Bool("raw", false, "match each IMAGE as given, without normalising it")
	key := fs.Bool("key", false, "treat PATTERN as an auth key (plugin auth map, pull secret, docker config)")
	// Flags may also follow PATTERN or an IMAGE; "--" ends them.
	pos, err := plugin.ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, matchUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kcred match: %v (%s)\n", err, matchUsage)
		return 2
	}
	if len(pos) < 2 {
		fmt.Fprintf(stderr, "kcred match: need a PATTERN and at least one IMAGE (%s)\n", matchUsage)
		return 2
	}
	m := newMatcher(pos[0], *key)
	code := 0
	for _, image := range pos[1:] {
		target := image
		if !*raw {
			n, err := match.Normalize(image)
			if err != nil {
				fmt.Fprintf(stdout, "no match %s: image invalid: %v\n", image, err)
				code = 1
				continue
			}
			target = n
		}
		if ok, why := m.match(target); ok {
			fmt.Fprintf(stdout, "match %s%s\n", target, why)
		} else {
			fmt.Fprintf(stdout, "no match %s: %s\n", target, why)
			code = 1
		}
	}
	return code
}

// matcher matches images against one PATTERN, as a matchImages entry or
// as an auth key.
type matcher struct {
	pattern string
	isKey   bool
	keyOK   bool           // the auth key survives normalisation
	norm    string         // the normalised auth key
	keyring *match.Keyring // holds the auth key alone
}

func newMatcher(pattern string, isKey bool) matcher {
	m := matcher{pattern: pattern, isKey: isKey}
	if isKey {
		m.norm, m.keyOK = match.NormalizeKey(pattern)
		m.keyring = &match.Keyring{}
		m.keyring.Add("kcred match", map[string]match.AuthConfig{pattern: {}})
	}
	return m
}

// match reports whether target matches; why is the reason for a miss, or
// a note on how a match came about.
func (m matcher) match(target string) (ok bool, why string) {
	if !m.isKey {
		r := match.Explain(m.pattern, target)
		return r.Match, r.Reason
	}
	if !m.keyOK {
		return false, fmt.Sprintf("auth key %q is not a valid URL: the kubelet drops it", m.pattern)
	}
	if creds := m.keyring.Lookup(target); len(creds) > 0 {
		if !match.URLsMatch(m.norm, target) {
			return true, fmt.Sprintf(" (Docker Hub fallback: key %q)", m.norm)
		}
		return true, ""
	}
	why = match.Explain(m.norm, target).Reason
	if m.norm != m.pattern {
		why += fmt.Sprintf(" (auth key %q is matched as %q)", m.pattern, m.norm)
	}
	return false, why
}
