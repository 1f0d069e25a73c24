package match

import (
	"strings"
)

// Normalize returns what the kubelet matches and sends to plugins
// (repoToPull): Docker Hub defaults applied ("nginx:1.25" becomes
// "docker.io/library/nginx"), tag and digest stripped, host case kept.
// Errors are distribution/reference's, as the kubelet reports them, e.g.
// "invalid reference format: repository name (Foo) must be lowercase"
// (SplitImage is that library's parser without its start-up
// cost; see reference.go).
//
// The kubelet first appends ":latest" to an untagged image and parses again
// (applyDefaultImageTag); that cannot change the name, so one parse suffices.
func Normalize(image string) (string, error) {
	domain, path, err := SplitImage(image)
	if err != nil {
		return "", err
	}
	if domain == "" {
		return path, nil
	}
	return domain + "/" + path, nil
}

// Registry returns the text before the first '/' of a normalised image
// (host[:port]): the kubelet's cache key for cacheKeyType Registry.
func Registry(image string) string {
	host, _, _ := strings.Cut(image, "/")
	return host
}
