package acr

import (
	"fmt"
	"strings"
)

// Mirror maps images under Source to the ACR Target whose credential the
// container runtime presents when it pulls them through a mirror (e.g. a
// containerd hosts.toml entry pointing the source at the ACR).
type Mirror struct {
	// Source is host[:port][/path], host lower-cased.
	Source string
	// Target is an ACR login server.
	Target string
}

// mirrorFlag is --registry-mirror: SRC:DST[,SRC:DST...], repeatable. Unlike
// upstream, hosts may carry ports ("reg.local:5000:myacr.azurecr.io") and a
// malformed mapping is an error rather than silently skipped.
type mirrorFlag struct{ mirrors *[]Mirror }

func (f mirrorFlag) String() string {
	if f.mirrors == nil {
		return ""
	}
	parts := make([]string, 0, len(*f.mirrors))
	for _, m := range *f.mirrors {
		parts = append(parts, m.Source+":"+m.Target)
	}
	return strings.Join(parts, ",")
}

func (f mirrorFlag) Set(s string) error {
	ms, err := parseMirrors(s)
	if err != nil {
		return err
	}
	*f.mirrors = append(*f.mirrors, ms...)
	return nil
}

// parseMirrors parses a comma-separated list of SRC:DST mappings. Spaces are
// dropped, as upstream does; an empty list is no mapping.
func parseMirrors(s string) ([]Mirror, error) {
	s = strings.Join(strings.Fields(s), "")
	var out []Mirror
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		m, err := parseMirror(item)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// parseMirror splits "SRC:DST" where either side may be host:port. A colon
// followed by digits up to the next colon (or the end) is a port.
func parseMirror(item string) (Mirror, error) {
	bad := func(why string) (Mirror, error) {
		return Mirror{}, fmt.Errorf("registry mirror %q: %s (want SOURCE:TARGET, e.g. mcr.microsoft.com:myacr.azurecr.io, or reg.local:5000:myacr.azurecr.io)", item, why)
	}
	parts := strings.Split(item, ":")
	var src, dst string
	switch {
	case len(parts) == 2:
		src, dst = parts[0], parts[1]
	case len(parts) == 3 && isPort(parts[1]) && isPort(parts[2]):
		return bad("ambiguous ports")
	case len(parts) == 3 && isPort(parts[1]):
		src, dst = parts[0]+":"+parts[1], parts[2]
	case len(parts) == 3 && isPort(parts[2]):
		src, dst = parts[0], parts[1]+":"+parts[2]
	case len(parts) == 4 && isPort(parts[1]) && isPort(parts[3]):
		src, dst = parts[0]+":"+parts[1], parts[2]+":"+parts[3]
	default:
		return bad("cannot split it into a source and a target")
	}
	host, path, _ := strings.Cut(src, "/")
	if host == "" || strings.HasPrefix(host, ":") {
		return bad("empty source")
	}
	if path != "" {
		src = strings.ToLower(host) + "/" + strings.Trim(path, "/")
	} else {
		src = strings.ToLower(host)
	}
	target, _, ok := loginServer(dst)
	if !ok {
		return bad(fmt.Sprintf("target %q is not an Azure Container Registry login server", dst))
	}
	return Mirror{Source: src, Target: target}, nil
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchMirror returns the mirror whose source is the longest prefix of
// image's repository on a host or path boundary ("mcr.microsoft.com"
// matches "mcr.microsoft.com/x" but not "mcr.microsoft.com.evil/x";
// "ghcr.io/team" matches "ghcr.io/team", "ghcr.io/team:v1" and
// "ghcr.io/team/app@sha256:..." but not "ghcr.io/teamx"). The kubelet sends
// the image as the pod names it, with or without a tag or digest.
func matchMirror(mirrors []Mirror, image string) (Mirror, bool) {
	host, path, _ := strings.Cut(image, "/")
	image = strings.ToLower(host)
	if path != "" {
		path, _, _ = strings.Cut(path, "@")
		if i := strings.LastIndexByte(path, ':'); i > strings.LastIndexByte(path, '/') {
			path = path[:i]
		}
		image += "/" + path
	}
	var best Mirror
	found := false
	for _, m := range mirrors {
		rest, ok := strings.CutPrefix(image, m.Source)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		if !found || len(m.Source) > len(best.Source) {
			best, found = m, true
		}
	}
	return best, found
}
