package match

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kcred/kcred/internal/ascii"
)

// This file is github.com/distribution/reference's ParseNormalizedNamed
// (v0.6.0, with opencontainers/go-digest v1.0.0 validating the digest)
// without regular expressions. The library compiles a dozen regexps in its
// package initialisers, about 4,400 allocations and 0.5 MB on every exec of
// every role, while an exec parses one image name. The library stays the
// oracle: reference_test.go checks that both accept, refuse and split the
// same strings, with the same error text, on a table and under fuzzing
// (FuzzSplitImageVsLibrary).

// The library's errors, word for word: the kubelet reports them.
var (
	errReferenceInvalidFormat = errors.New("invalid reference format")
	errNameContainsUppercase  = errors.New("repository name must be lowercase")
	errNameEmpty              = errors.New("repository name must have at least one component")
	errNameTooLong            = fmt.Errorf("repository name must not be more than %v characters", nameTotalLengthMax)
	errDigestInvalidFormat    = errors.New("invalid checksum digest format")
	errDigestInvalidLength    = errors.New("invalid checksum digest length")
	errDigestUnsupported      = errors.New("unsupported digest algorithm")
)

const (
	// nameTotalLengthMax bounds the path (the name without its domain).
	nameTotalLengthMax = 255
	// tagLengthMax bounds a tag.
	tagLengthMax = 128
	// digestHexMin is the shortest encoded part the reference grammar takes.
	digestHexMin = 32
)

// SplitImage is reference.ParseNormalizedNamed followed by the name's
// Domain and Path: "nginx:1.25" is "docker.io", "library/nginx". The domain
// is empty when the first component cannot be one ("a_b.c/x"), as in the
// library.
func SplitImage(s string) (domain, path string, err error) {
	if len(s) == 64 && all(s, isLowerHex) {
		return "", "", fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitDockerDomain(s)
	remote := remainder
	if i := strings.IndexByte(remainder, ':'); i > -1 {
		remote = remainder[:i]
	}
	if strings.ToLower(remote) != remote {
		return "", "", fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	return parseReference(domain + "/" + remainder)
}

// splitDockerDomain is the library's: the first component is a domain when
// it is localhost, has a '.' or ':', or is not lowercase; Docker Hub names
// get docker.io and, with one component, library/.
func splitDockerDomain(name string) (domain, remote string) {
	maybeDomain, maybeRemote, ok := strings.Cut(name, "/")
	if !ok {
		return "docker.io", "library/" + name
	}
	switch {
	case maybeDomain == "localhost":
		domain, remote = maybeDomain, maybeRemote
	case maybeDomain == "index.docker.io":
		domain, remote = "docker.io", maybeRemote
	case strings.ContainsAny(maybeDomain, ".:"):
		domain, remote = maybeDomain, maybeRemote
	case strings.ToLower(maybeDomain) != maybeDomain:
		domain, remote = maybeDomain, maybeRemote
	default:
		domain, remote = "docker.io", name
	}
	if domain == "docker.io" && !strings.Contains(remote, "/") {
		remote = "library/" + remote
	}
	return domain, remote
}

// parseReference is reference.Parse for a string that must have a name: the
// grammar name[:tag][@digest], then the path length and the digest checks.
func parseReference(s string) (domain, path string, err error) {
	name, _, dgst, ok := splitReference(s)
	if !ok {
		if s == "" {
			return "", "", errNameEmpty
		}
		if _, _, _, ok := splitReference(strings.ToLower(s)); ok {
			return "", "", errNameContainsUppercase
		}
		return "", "", errReferenceInvalidFormat
	}
	domain, path = splitName(name)
	if len(path) > nameTotalLengthMax {
		return "", "", errNameTooLong
	}
	if dgst != "" {
		if err := validateDigest(dgst); err != nil {
			return "", "", err
		}
	}
	return domain, path, nil
}

// splitReference matches s against the library's ReferenceRegexp,
// ^(name)(?::(tag))?(?:@(digest))?$, and returns its groups. The split is
// forced: '@' occurs only before the digest, a name's ':' (a port, an IPv6
// address) is always followed by a '/', and a tag has neither.
func splitReference(s string) (name, tag, dgst string, ok bool) {
	name = s
	if i := strings.IndexByte(name, '@'); i > -1 {
		name, dgst = name[:i], name[i+1:]
		if !isDigest(dgst) {
			return "", "", "", false
		}
	}
	if i := strings.LastIndexByte(name, ':'); i > -1 && !strings.Contains(name[i:], "/") {
		name, tag = name[:i], name[i+1:]
		if !isTag(tag) {
			return "", "", "", false
		}
	}
	if !isName(name) {
		return "", "", "", false
	}
	return name, tag, dgst, true
}

// isName matches the library's NameRegexp, anchored:
// (?:domainAndPort/)?remoteName.
func isName(s string) bool {
	if isRemoteName(s) {
		return true
	}
	d, rest, ok := strings.Cut(s, "/")
	return ok && isDomainAndPort(d) && isRemoteName(rest)
}

// splitName is the library's anchoredNameRegexp,
// ^(?:(domainAndPort)/)?(remoteName)$, on a name isName accepted: the
// optional domain group is greedy, so a first component that can be a
// domain is one.
func splitName(s string) (domain, path string) {
	if d, rest, ok := strings.Cut(s, "/"); ok && isDomainAndPort(d) && isRemoteName(rest) {
		return d, rest
	}
	return "", s
}

// isRemoteName matches pathComponent(?:/pathComponent)*.
func isRemoteName(s string) bool {
	for {
		c, rest, more := strings.Cut(s, "/")
		if !isPathComponent(c) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// isPathComponent matches [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*: runs of
// lowercase letters and digits joined by '.', '_', "__" or any number of
// '-'.
func isPathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && ascii.IsLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false
		}
		if i == len(s) {
			return true
		}
		switch {
		case s[i] == '.':
			i++
		case strings.HasPrefix(s[i:], "__"):
			i += 2
		case s[i] == '_':
			i++
		case s[i] == '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// isDomainAndPort matches (?:domainName|ipv6address)(?::[0-9]+)?.
func isDomainAndPort(s string) bool {
	host := s
	if i := strings.LastIndexByte(s, ':'); i > -1 && !strings.Contains(s[i:], "]") {
		// A ':' after any ']' can only start the port: neither a domain
		// name nor a bracketed address ends in one.
		host = s[:i]
		if !ascii.IsDigits(s[i+1:]) {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		inner, ok := strings.CutSuffix(host[1:], "]")
		return ok && inner != "" && all(inner, func(c byte) bool { return c == ':' || isHex(c) })
	}
	return isDomainName(host)
}

// isDomainName matches domainNameComponent(?:\.domainNameComponent)*, a
// component being letters, digits and '-', not starting or ending in '-'.
func isDomainName(s string) bool {
	for c := range strings.SplitSeq(s, ".") {
		if c == "" || c[0] == '-' || c[len(c)-1] == '-' || !all(c, func(b byte) bool { return b == '-' || ascii.IsAlnum(b) }) {
			return false
		}
	}
	return true
}

// isTag matches [\w][\w.-]{0,127}.
func isTag(s string) bool {
	return len(s) >= 1 && len(s) <= tagLengthMax && isWord(s[0]) && all(s, func(c byte) bool { return c == '.' || c == '-' || isWord(c) })
}

// isDigest matches the reference grammar's digest:
// [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}.
func isDigest(s string) bool {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok || len(enc) < digestHexMin || !all(enc, isHex) {
		return false
	}
	i := 0
	for {
		if i >= len(alg) || !ascii.IsAlpha(alg[i]) {
			return false
		}
		for i < len(alg) && ascii.IsAlnum(alg[i]) {
			i++
		}
		if i == len(alg) {
			return true
		}
		if !strings.ContainsRune("-_+.", rune(alg[i])) {
			return false
		}
		i++
	}
}

// validateDigest is go-digest's Digest.Validate for a string isDigest
// accepted: sha256, sha384 and sha512 need exactly their length in
// lowercase hex; another algorithm is unsupported when go-digest's own
// grammar (lowercase) takes it.
func validateDigest(s string) error {
	alg, enc, _ := strings.Cut(s, ":")
	var size int
	switch alg {
	case "sha256":
		size = 32
	case "sha384":
		size = 48
	case "sha512":
		size = 64
	}
	switch {
	case size == 0 && strings.ToLower(alg) != alg:
		return errDigestInvalidFormat
	case size == 0:
		return errDigestUnsupported
	case len(enc) != 2*size:
		return errDigestInvalidLength
	case !all(enc, isLowerHex):
		return errDigestInvalidFormat
	}
	return nil
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isWord(c byte) bool { return ascii.IsAlnum(c) || c == '_' }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
