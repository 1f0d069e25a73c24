package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/kcred/kcred/internal/ascii"
	"github.com/kcred/kcred/match"
)

// Mirror is one --registry-mirror mapping: the container runtime pulls
// images named under Source from Target (a containerd hosts.toml or CRI-O
// registries.conf mirror), so the credential of Target must be answered
// under Source too.
type Mirror struct {
	// Source is host[:port][/path], host lower-cased: the name pods use.
	Source string
	// Target is host[:port]: the registry that actually serves the pull.
	Target string
}

// MirrorFlagName is the flag every role accepts for its mirrors.
const MirrorFlagName = "registry-mirror"

// MirrorUsage is the --registry-mirror help text.
const MirrorUsage = "SOURCE:TARGET[,SOURCE:TARGET...]: images under SOURCE (host[:port][/path]) are pulled through the mirror TARGET (host[:port]) and get its credential, answered under SOURCE too; repeatable"

// MirrorFlag is --registry-mirror: SRC:DST[,SRC:DST...], repeatable (the
// syntax of cloud-provider-azure's flag). Unlike upstream, hosts may carry
// ports ("reg.local:5000:myacr.azurecr.io") and a malformed mapping is an
// error rather than silently skipped.
type MirrorFlag struct {
	// Mirrors receives the parsed mappings, in order.
	Mirrors *[]Mirror
}

// String returns the mappings as one flag value.
func (f MirrorFlag) String() string {
	if f.Mirrors == nil {
		return ""
	}
	parts := make([]string, 0, len(*f.Mirrors))
	for _, m := range *f.Mirrors {
		parts = append(parts, m.Source+":"+m.Target)
	}
	return strings.Join(parts, ",")
}

// Set parses one flag value and appends its mappings.
func (f MirrorFlag) Set(s string) error {
	ms, err := ParseMirrors(s)
	if err != nil {
		return err
	}
	*f.Mirrors = append(*f.Mirrors, ms...)
	return nil
}

// ParseMirrors parses a comma-separated list of SRC:DST mappings. Spaces are
// dropped, as upstream does; an empty list is no mapping.
func ParseMirrors(s string) ([]Mirror, error) {
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

// parseMirror splits "SRC:DST" where either side may be host:port (and the
// source host[:port]/path). A colon followed by digits up to the next colon,
// '/' or the end is a port.
func parseMirror(item string) (Mirror, error) {
	bad := func(why string) (Mirror, error) {
		return Mirror{}, fmt.Errorf("registry mirror %q: %s; want SOURCE:TARGET, e.g. mirror.example.com:registry.example.com or reg.local:5000:registry.example.com:5000", item, why)
	}
	parts := strings.Split(item, ":")
	var src, dst string
	switch {
	case len(parts) == 2:
		src, dst = parts[0], parts[1]
	case len(parts) == 3 && isPort(parts[1]) && isPort(parts[2]):
		return bad("ambiguous ports")
	case len(parts) == 3 && isPortPath(parts[1]):
		src, dst = parts[0]+":"+parts[1], parts[2]
	case len(parts) == 3 && isPort(parts[2]):
		src, dst = parts[0], parts[1]+":"+parts[2]
	case len(parts) == 4 && isPortPath(parts[1]) && isPort(parts[3]):
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
	if _, err := match.Normalize(src + "/x"); err != nil {
		return bad(fmt.Sprintf("source %q is not a registry host[:port][/path]", src))
	}
	dst = strings.ToLower(dst)
	if dst == "" || strings.Contains(dst, "/") {
		return bad(fmt.Sprintf("target %q is not a registry host[:port] (a mirror serves the source's repositories under the same paths)", dst))
	}
	if n, err := match.Normalize(dst + "/x"); err != nil || match.Registry(n) != dst {
		return bad(fmt.Sprintf("target %q is not a registry host[:port]", dst))
	}
	return Mirror{Source: src, Target: dst}, nil
}

func isPort(s string) bool {
	return s != "" && len(s) <= 5 && ascii.IsDigits(s)
}

// isPortPath reports whether s is a port, optionally followed by the
// source's path ("5000/team").
func isPortPath(s string) bool {
	port, _, _ := strings.Cut(s, "/")
	return isPort(port)
}

// MatchMirror returns the mirror whose source is the longest prefix of
// image's repository on a host or path boundary ("mcr.microsoft.com"
// matches "mcr.microsoft.com/x" but not "mcr.microsoft.com.evil/x";
// "ghcr.io/team" matches "ghcr.io/team", "ghcr.io/team:v1" and
// "ghcr.io/team/app@sha256:..." but not "ghcr.io/teamx"). The kubelet sends
// the image as the pod names it, with or without a tag or digest.
func MatchMirror(mirrors []Mirror, image string) (Mirror, bool) {
	image = repository(image)
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

// repository is image without tag or digest, host lower-cased.
func repository(image string) string {
	host, path, _ := strings.Cut(image, "/")
	repo := strings.ToLower(host)
	if path != "" {
		path, _, _ = strings.Cut(path, "@")
		if i := strings.LastIndexByte(path, ':'); i > strings.LastIndexByte(path, '/') {
			path = path[:i]
		}
		repo += "/" + path
	}
	return repo
}

// Mirrored wraps p so that a request for an image under a mirror's Source
// is asked of p as the same repository on the mirror's Target, and the
// credential the kubelet would pick for that Target image is answered under
// Source as well as under p's own keys. Other requests reach p unchanged.
// With no mirrors it returns p.
func Mirrored(p Provider, mirrors []Mirror) Provider {
	if len(mirrors) == 0 {
		return p
	}
	return mirrored{p: p, mirrors: mirrors}
}

type mirrored struct {
	p       Provider
	mirrors []Mirror
}

func (m mirrored) Credentials(ctx context.Context, req Request) (Answer, error) {
	ans, err := m.answer(ctx, req)
	if err != nil {
		return ans, err
	}
	return m.scoped(req, ans), nil
}

// scoped narrows how the kubelet may reuse an answer. It caches a Registry
// answer per host and matches keys by plain path prefix, so with a source
// that has a path ("ghcr.io/team") an answer would be reused for other
// repositories of that host ("ghcr.io/teamx"), mirror credential included:
// every answer for such a host is keyed per image instead. A Global answer
// is cached for every image, sources included, whether or not it holds their
// keys: with mirrors it is kept per registry.
func (m mirrored) scoped(req Request, ans Answer) Answer {
	if ans.CacheKeyType == CacheKeyGlobal {
		ans.CacheKeyType = CacheKeyRegistry
	}
	host := match.Registry(normalized(req.Image))
	for _, mir := range m.mirrors {
		if h, path, _ := strings.Cut(mir.Source, "/"); path != "" && (h == host || h == req.Registry) {
			ans.CacheKeyType = CacheKeyImage
			break
		}
	}
	return ans
}

func (m mirrored) answer(ctx context.Context, req Request) (Answer, error) {
	// The kubelet's normalised name first, so "nginx" is under a
	// docker.io/library source, then the image as the pod names it, so a
	// source without a dot (a Docker Hub namespace to the kubelet) still
	// matches as written.
	var mir Mirror
	var path string
	found := false
	for _, image := range []string{normalized(req.Image), req.Image} {
		if mir, found = MatchMirror(m.mirrors, image); found {
			_, path, _ = strings.Cut(repository(image), "/")
			break
		}
	}
	if !found {
		return m.p.Credentials(ctx, req)
	}
	target := req
	target.Image = mir.Target + "/" + path
	target.Registry = mir.Target
	ans, err := m.p.Credentials(ctx, target)
	if err != nil {
		return Answer{}, Fail("mirror "+mir.Source+" of "+mir.Target, err, "")
	}
	var ring match.Keyring
	ring.Add("", toMatch(ans.Auth))
	creds := ring.Lookup(target.Image)
	if len(creds) == 0 {
		// Nothing for the target, so nothing for the source either.
		return ans, nil
	}
	auth := make(map[string]AuthConfig, len(ans.Auth)+1)
	for k, v := range ans.Auth {
		auth[k] = v
	}
	// The credential the kubelet would try first for the target image.
	auth[mir.Source] = AuthConfig{Username: creds[0].Username, Password: creds[0].Password}
	ans.Auth = auth
	return ans, nil
}

// normalized is the kubelet's name for image, or "" when it has none
// (DecodeRequest refuses such a request before a provider sees it).
func normalized(image string) string {
	name, err := match.Normalize(image)
	if err != nil {
		return ""
	}
	return name
}

func toMatch(auth map[string]AuthConfig) map[string]match.AuthConfig {
	out := make(map[string]match.AuthConfig, len(auth))
	for k, v := range auth {
		out[k] = match.AuthConfig(v)
	}
	return out
}
