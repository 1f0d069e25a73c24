// Package v1beta1 mirrors the v1beta1 wire types of credentialprovider.kubelet.k8s.io
// and kubelet.config.k8s.io (k8s.io/kubelet v0.37.2): the v1 shapes without
// service-account mode. See package v1 for why the names are the kubelet's.
package v1beta1
