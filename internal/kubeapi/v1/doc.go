// Package v1 mirrors the v1 wire types the kubelet exchanges with credential
// provider plugins: meta/v1's TypeMeta and Duration,
// credentialprovider.kubelet.k8s.io/v1 and kubelet.config.k8s.io/v1. Field
// names, JSON tags and type names are the kubelet's (k8s.io/kubelet v0.37.2,
// k8s.io/apimachinery v0.37.2): errors of encoding/json and
// sigs.k8s.io/json name them.
package v1
