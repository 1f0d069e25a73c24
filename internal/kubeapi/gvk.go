// Package kubeapi holds what kcred needs of the kubelet's API machinery,
// without linking k8s.io/apimachinery into the node binary (issue 16: its
// package initialisers ran on every plugin exec): reading an object's
// apiVersion and kind, and apimachinery's strict JSON/YAML decoding. The
// wire types live in the subpackages v1, v1beta1 and v1alpha1, named as the
// kubelet's own packages are so that decoding errors, which print Go type
// names, read the same. The decoders reuse sigs.k8s.io/json and
// sigs.k8s.io/yaml, the libraries apimachinery's serializer is built on.
// The tests of this package and of plugin and kubelet keep apimachinery and
// k8s.io/kubelet as the oracle (differential tables and fuzz targets).
package kubeapi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// GroupVersionKind names an object's type as its apiVersion and kind do.
type GroupVersionKind struct {
	Group, Version, Kind string
}

// GroupVersion is the apiVersion string: "group/version", or "version" for
// the core group.
func (g GroupVersionKind) GroupVersion() string {
	if g.Group != "" {
		return g.Group + "/" + g.Version
	}
	return g.Version
}

// Interpret reads the apiVersion and kind of a JSON object as apimachinery's
// DefaultMetaFactory does: with encoding/json, so its field names match
// case-insensitively, with its error messages.
func Interpret(data []byte) (GroupVersionKind, error) {
	var find struct {
		APIVersion string `json:"apiVersion,omitempty"`
		Kind       string `json:"kind,omitempty"`
	}
	if err := json.Unmarshal(data, &find); err != nil {
		return GroupVersionKind{}, fmt.Errorf("couldn't get version/kind; json parse error: %v", err)
	}
	group, version, err := parseGroupVersion(find.APIVersion)
	if err != nil {
		return GroupVersionKind{}, err
	}
	return GroupVersionKind{Group: group, Version: version, Kind: find.Kind}, nil
}

// parseGroupVersion splits an apiVersion as schema.ParseGroupVersion does.
func parseGroupVersion(gv string) (group, version string, err error) {
	if gv == "" || gv == "/" {
		return "", "", nil
	}
	switch strings.Count(gv, "/") {
	case 0:
		return "", gv, nil
	case 1:
		group, version, _ = strings.Cut(gv, "/")
		return group, version, nil
	default:
		return "", "", fmt.Errorf("unexpected GroupVersion string: %v", gv)
	}
}
