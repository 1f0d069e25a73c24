package ocir

import (
	"net"
	"strings"

	"github.com/oracle/oci-go-sdk/v65/common"
)

// Host is what an OCIR registry host name tells.
type Host struct {
	// Region is the region identifier, e.g. "us-ashburn-1".
	Region string
	// Realm is the realm key, e.g. "oc1".
	Realm string
	// Domain is the realm's DNS domain, e.g. "oraclecloud.com".
	Domain string
}

// legacyDomain is the short-form registry domain (`<region key>.ocir.io`,
// `<region identifier>.ocir.io`), which serves the commercial realm only.
const (
	legacyDomain = "ocir.io"
	legacyRealm  = "oc1"
)

// ParseHost recognises an OCIR registry host (a port is allowed and
// ignored), in any of its forms:
//
//   - `<region key>.ocir.io` (iad.ocir.io) and `<region identifier>.ocir.io`
//     (us-ashburn-1.ocir.io), for the commercial realm (oc1);
//   - `ocir.<region identifier>.oci.<realm domain>`
//     (ocir.us-ashburn-1.oci.oraclecloud.com,
//     ocir.us-langley-1.oci.oraclegovcloud.com), for every realm.
//
// Regions are those oci-go-sdk knows (its built-in table, plus a dedicated
// region it learns from OCI_REGION_METADATA or ~/.oci/regions-config.json):
// the region must exist and belong to the realm the domain names. Reading
// those is local, so ParseHost does no network I/O; any other host is not
// OCIR (ok false).
func ParseHost(registry string) (Host, bool) {
	host := strings.ToLower(strings.TrimSuffix(registry, "."))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if label, ok := strings.CutSuffix(host, "."+legacyDomain); ok {
		h, ok := lookupRegion(label, true)
		if !ok || h.Realm != legacyRealm {
			return Host{}, false
		}
		return h, true
	}
	rest, ok := strings.CutPrefix(host, "ocir.")
	if !ok {
		return Host{}, false
	}
	region, domain, ok := strings.Cut(rest, ".oci.")
	if !ok || strings.Contains(region, ".") {
		return Host{}, false
	}
	h, ok := lookupRegion(region, false)
	if !ok || h.Domain != domain {
		return Host{}, false
	}
	return h, true
}

// lookupRegion finds a region the SDK knows by identifier, or also by its
// short key when keyOK. A label that is not a DNS label is never looked up.
func lookupRegion(label string, keyOK bool) (Host, bool) {
	if !dnsLabel(label) {
		return Host{}, false
	}
	r := common.StringToRegion(label)
	if !keyOK && string(r) != label {
		// A region key (iad) in the long form: not a host OCIR serves.
		return Host{}, false
	}
	realm, err := r.RealmID()
	if err != nil {
		return Host{}, false
	}
	return Host{Region: string(r), Realm: realm, Domain: r.SecondLevelDomain()}, true
}

// dnsLabel reports whether s is one lowercase DNS label (letters, digits,
// inner hyphens), so that nothing else reaches the SDK's region lookup.
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
