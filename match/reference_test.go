package match

import (
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
)

// This file is the oracle for the differential tests: the kubelet's code
// (k8s.io/kubernetes v1.37.2 pkg/credentialprovider/keyring.go and
// pkg/kubelet/images) transcribed as literally as possible, without the
// fast paths of the package.

func refParseSchemelessURL(schemelessURL string) (*url.URL, error) {
	parsed, err := url.Parse("https://" + schemelessURL)
	if err != nil {
		return nil, err
	}
	parsed.Scheme = ""
	return parsed, nil
}

func refSplitURL(u *url.URL) (parts []string, port string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

func refURLsMatchStr(glob, target string) (bool, error) {
	globURL, err := refParseSchemelessURL(glob)
	if err != nil {
		return false, err
	}
	targetURL, err := refParseSchemelessURL(target)
	if err != nil {
		return false, err
	}
	globURLParts, globPort := refSplitURL(globURL)
	targetURLParts, targetPort := refSplitURL(targetURL)
	if globPort != targetPort {
		return false, nil
	}
	if len(globURLParts) != len(targetURLParts) {
		return false, nil
	}
	if !strings.HasPrefix(targetURL.Path, globURL.Path) {
		return false, nil
	}
	for k, globURLPart := range globURLParts {
		matched, err := filepath.Match(globURLPart, targetURLParts[k])
		if err != nil {
			return false, err
		}
		if !matched {
			return false, nil
		}
	}
	return true, nil
}

// refNormalizeKey is the per-key part of BasicDockerKeyring.Add.
func refNormalizeKey(loc string) (string, bool) {
	value := loc
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		value = "https://" + value
	}
	parsed, err := url.Parse(value)
	if err != nil {
		return "", false
	}
	effectivePath := parsed.Path
	if strings.HasPrefix(effectivePath, "/v2/") || strings.HasPrefix(effectivePath, "/v1/") {
		effectivePath = effectivePath[3:]
	}
	if (len(effectivePath) > 0) && (effectivePath != "/") {
		return parsed.Host + effectivePath, true
	}
	return parsed.Host, true
}

// refKeyring is BasicDockerKeyring; adds take one key at a time so that the
// order within a key is defined.
type refKeyring struct {
	index []string
	creds map[string][]Credential
}

func (dk *refKeyring) add(source, loc string, a AuthConfig) {
	if dk.creds == nil {
		dk.creds = map[string][]Credential{}
	}
	key, ok := refNormalizeKey(loc)
	if !ok {
		return
	}
	dk.creds[key] = append(dk.creds[key], Credential{Key: key, Source: source, Username: a.Username, Password: a.Password})
	dk.index = append(dk.index, key)
	set := map[string]bool{}
	var uniq []string
	for _, k := range dk.index {
		if !set[k] {
			set[k] = true
			uniq = append(uniq, k)
		}
	}
	dk.index = uniq
	sort.Sort(sort.Reverse(sort.StringSlice(dk.index)))
}

func (dk *refKeyring) lookup(image string) []Credential {
	var ret []Credential
	for _, k := range dk.index {
		if matched, _ := refURLsMatchStr(k, image); matched {
			ret = append(ret, dk.creds[k]...)
		}
	}
	if len(ret) > 0 {
		return ret
	}
	if refIsDefaultRegistryMatch(image) {
		if auth, ok := dk.creds["index.docker.io"]; ok {
			return auth
		}
	}
	return nil
}

func refIsDefaultRegistryMatch(image string) bool {
	parts := strings.SplitN(image, "/", 2)
	if len(parts[0]) == 0 {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	if parts[0] == "docker.io" || parts[0] == "index.docker.io" {
		return true
	}
	return !strings.ContainsAny(parts[0], ".:")
}

// refRepoToPull is applyDefaultImageTag followed by ParseImageName.
func refRepoToPull(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	_, isTagged := named.(reference.Tagged)
	_, isDigested := named.(reference.Digested)
	if !isTagged && !isDigested {
		image = image + ":latest"
	}
	named, err = reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	return named.Name(), nil
}
