// Package match reproduces, byte for byte, how the kubelet matches images:
// image normalisation (repoToPull), the URLsMatchStr glob used for
// matchImages and auth keys, auth-key normalisation and the
// BasicDockerKeyring lookup order (kubernetes v1.37.2,
// pkg/credentialprovider/keyring.go and pkg/kubelet/images).
//
// Everything here is a pure function without I/O. The matching hot path
// (URLsMatch, Keyring.Lookup) does not allocate for ordinary host names;
// unusual input falls back to net/url, exactly as the kubelet parses it.
package match
