// Package gcp is the Google provider: the drop-in `auth-provider-gcp` role
// for Container Registry (gcr.io) and Artifact Registry (*.pkg.dev). It
// gets a Google access token (the metadata server's service account,
// Application Default Credentials including workload identity federation,
// or the pod's service-account token exchanged at Google STS) and answers
// it as the password of the user oauth2accesstoken; the dockercfg flows
// return the instance attribute's Docker credentials instead.
package gcp

import (
	"strings"

	"github.com/kcred/kcred/match"
)

// Registries are the stock matchImages of GKE and GCE nodes, and the
// registries this role answers for: Container Registry and its regional
// hosts, Artifact Registry's regional hosts, and the GKE image host.
var Registries = []string{"container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"}

// isGoogleRegistry reports whether registry (a host, port kept, as the
// kubelet sent it) is a Google registry, with the kubelet's own matchImages
// semantics: a '*' stands for one label, so "gcr.io.example.com",
// "evilgcr.io" and "a.b.pkg.dev" are not Google's. Google's registries
// listen on 443 only: that port may be named, no other. Host names are
// case-insensitive.
func isGoogleRegistry(registry string) bool {
	host := strings.ToLower(strings.TrimSuffix(registry, ":443"))
	for _, glob := range Registries {
		if match.URLsMatch(glob, host) {
			return true
		}
	}
	return false
}
