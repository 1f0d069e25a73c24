package match

import (
	"slices"
	"strings"
)

// defaultRegistryKey is the normalised key of Docker Hub credentials
// ("https://index.docker.io/v1/"), the kubelet's fallback for Hub images.
const defaultRegistryKey = "index.docker.io"

// AuthConfig is one credential.
type AuthConfig struct {
	Username, Password string
}

// Credential is one credential the keyring returns, with where it came
// from.
type Credential struct {
	// Key is the normalised auth key that matched the image.
	Key string
	// Source is the source given to Keyring.Add (e.g. a provider name).
	Source string
	// Username and Password are the credential.
	Username, Password string
}

// Keyring is the kubelet's BasicDockerKeyring. The zero value is empty and
// ready to use; it is not safe for concurrent use while Add is called.
type Keyring struct {
	// index holds one entry per normalised key in reverse byte order of
	// the key, the order in which Lookup walks them.
	index []*keyEntry
	byKey map[string]*keyEntry
}

// keyEntry is one normalised key with its credentials in Add order.
type keyEntry struct {
	key   string
	glob  schemeless
	valid bool // false when the normalised key no longer parses
	creds []Credential
}

// Add adds the credentials of one auth map (a plugin answer, a pull secret,
// a node docker config) with their source. Keys are normalised with
// NormalizeKey; entries the kubelet drops are dropped. Credentials that
// normalise to one key keep Add order. Within one map the kubelet's order
// follows Go map iteration (random); Add uses the byte order of the raw keys
// so that the result is reproducible.
func (k *Keyring) Add(source string, auth map[string]AuthConfig) {
	if k.byKey == nil {
		k.byKey = make(map[string]*keyEntry)
	}
	raw := make([]string, 0, len(auth))
	for key := range auth {
		raw = append(raw, key)
	}
	slices.Sort(raw)
	added := false
	for _, key := range raw {
		norm, ok := NormalizeKey(key)
		if !ok {
			continue
		}
		e := k.byKey[norm]
		if e == nil {
			glob, err := parseSchemeless(norm)
			e = &keyEntry{key: norm, glob: glob, valid: err == nil}
			k.byKey[norm] = e
			k.index = append(k.index, e)
			added = true
		}
		a := auth[key]
		e.creds = append(e.creds, Credential{Key: norm, Source: source, Username: a.Username, Password: a.Password})
	}
	if added {
		// Reverse byte order puts a longer key before its own prefix and a
		// '*' label after a literal one.
		slices.SortFunc(k.index, func(a, b *keyEntry) int { return strings.Compare(b.key, a.key) })
	}
}

// Lookup returns every credential whose key matches image (URLsMatch), in
// the kubelet's order: keys in reverse byte order, credentials of one key in
// Add order. When none matches and image is a Docker Hub image
// (IsDefaultRegistryMatch), the credentials under "index.docker.io" are
// returned. image is matched as given: pass the normalised image, as the
// kubelet does.
func (k *Keyring) Lookup(image string) []Credential {
	var found []Credential
	if t, err := parseSchemeless(image); err == nil {
		for _, e := range k.index {
			if e.valid && e.glob.matches(t) {
				found = append(found, e.creds...)
			}
		}
	}
	if len(found) > 0 {
		return found
	}
	if e := k.byKey[defaultRegistryKey]; e != nil && IsDefaultRegistryMatch(image) {
		return slices.Clone(e.creds)
	}
	return nil
}

// IsDefaultRegistryMatch is the kubelet's isDefaultRegistryMatch: whether
// image names Docker Hub, i.e. its first '/'-separated part is non-empty
// and either the whole image, "docker.io", "index.docker.io" or a name
// without '.' or ':'.
func IsDefaultRegistryMatch(image string) bool {
	first, _, more := strings.Cut(image, "/")
	if first == "" {
		return false
	}
	if !more {
		return true
	}
	if first == "docker.io" || first == "index.docker.io" {
		return true
	}
	return !strings.ContainsAny(first, ".:")
}
