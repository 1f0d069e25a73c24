package match

import "strings"

// NormalizeKey normalises an auth key (plugin auth map, pull secret or node
// docker config) as BasicDockerKeyring.Add does: an "https://" or "http://"
// prefix (exact case) is dropped, a path starting "/v1/" or "/v2/" loses
// those three characters, and the key is the host[:port] plus the remaining
// path unless that path is empty or "/". ok is false when the kubelet drops
// the entry because it is not a valid URL.
//
// It is not idempotent for keys that reparse differently once normalised
// (e.g. "host/v1/v1/x" gives "host/v1/x"); that is the kubelet's behaviour:
// Add normalises once, Lookup matches the result as a glob.
func NormalizeKey(key string) (normalized string, ok bool) {
	rest := key
	if after, found := strings.CutPrefix(key, "https://"); found {
		rest = after
	} else if after, found := strings.CutPrefix(key, "http://"); found {
		rest = after
	}
	host, path, err := hostPath(rest)
	if err != nil {
		return "", false
	}
	if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
		path = path[3:]
	}
	if path == "" || path == "/" {
		return host, true
	}
	return host + path, true
}
