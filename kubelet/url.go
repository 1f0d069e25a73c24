package kubelet

import "net/url"

// parseSchemeless is the kubelet's ParseSchemelessURL: the only check its
// validation applies to a matchImages entry.
func parseSchemeless(s string) (*url.URL, error) {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return nil, err
	}
	u.Scheme = ""
	return u, nil
}
