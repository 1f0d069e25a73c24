// Package deploy renders every kustomize overlay of deploy/ as
// `kubectl kustomize` would, decodes each object strictly as its k8s.io/api
// type, and runs each overlay's CredentialProviderConfig through the
// kubelet's start-up rules (kcred check's), with the bin dir kcred install
// would fill.
package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/kcred/kcred/kubelet"
)

func TestOverlays(t *testing.T) {
	cases := []struct {
		dir                        string
		provider                   string // the one provider name of the config and of --roles
		binDir, configDir, cfgFile string // the host paths and the config file's name
	}{
		{"base", "ecr-credential-provider", "/etc/eks/image-credential-provider", "/etc/eks/image-credential-provider", "kcred.yaml"},
		{"overlays/eks", "ecr-credential-provider", "/etc/eks/image-credential-provider", "/etc/eks/image-credential-provider", "config.json"},
		{"overlays/aks", "acr-credential-provider", "/var/lib/kubelet/credential-provider", "/var/lib/kubelet", "credential-provider-config.yaml"},
		{"overlays/gke", "auth-provider-gcp", "/home/kubernetes/bin", "/etc/srv/kubernetes", "cri_auth_config.yaml"},
		{"overlays/oke", "oke-credential-provider", "/usr/local/bin", "/etc/kubernetes", "credential-provider-config.yaml"},
	}
	overlays, err := filepath.Glob("../../deploy/overlays/*")
	if err != nil || len(overlays) != len(cases)-1 {
		t.Fatalf("deploy/overlays holds %v (%v): every overlay needs a case here", overlays, err)
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			ds, cm := render(t, filepath.Join("../../deploy", c.dir))
			if ds.Namespace != "kube-system" || cm.Namespace != ds.Namespace {
				t.Errorf("namespaces: DaemonSet %q, ConfigMap %q, want kube-system", ds.Namespace, cm.Namespace)
			}
			spec := ds.Spec.Template.Spec
			if len(spec.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(spec.Containers))
			}
			want := []string{"install", "--bin-dir=/host/bin-dir", "--roles=" + c.provider, "--config=/config/kcred.yaml", "--config-dest=/host/config-dir/" + c.cfgFile, "--wait"}
			if args := spec.Containers[0].Args; !slices.Equal(args, want) {
				t.Errorf("args %q, want %q", args, want)
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range spec.Volumes {
				volumes[v.Name] = v
			}
			for name, path := range map[string]string{"bin-dir": c.binDir, "config-dir": c.configDir} {
				if v := volumes[name]; v.HostPath == nil || v.HostPath.Path != path {
					t.Errorf("volume %s: %+v, want hostPath %s", name, v.VolumeSource, path)
				}
			}
			if v := volumes["config"]; v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
				t.Errorf("the config volume does not mount the rendered ConfigMap %s: %+v", cm.Name, v.VolumeSource)
			}

			// The config, as kcred install checks it before writing: the
			// kubelet's start-up on a bin dir holding the --roles names.
			data, ok := cm.Data["kcred.yaml"]
			if !ok || len(cm.Data) != 1 {
				t.Fatalf("ConfigMap data keys %v, want kcred.yaml only", keys(cm.Data))
			}
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, c.cfgFile)
			if err := os.WriteFile(cfgPath, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			binDir := filepath.Join(dir, "bin")
			if err := os.Mkdir(binDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(binDir, c.provider), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			cfg, err := kubelet.Startup(cfgPath, binDir)
			if err != nil {
				t.Fatalf("the kubelet would not start with this config: %v", err)
			}
			if len(cfg.Providers) != 1 || cfg.Providers[0].Name != c.provider {
				t.Errorf("providers %+v, want one named %s", cfg.Providers, c.provider)
			}
			for _, w := range kubelet.Warnings(cfg, binDir) {
				t.Errorf("warning: %s", w)
			}
		})
	}
}

// render runs kustomize on dir and decodes its output strictly: one
// DaemonSet and one ConfigMap, nothing else.
func render(t *testing.T, dir string) (*appsv1.DaemonSet, *corev1.ConfigMap) {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var ds *appsv1.DaemonSet
	var cm *corev1.ConfigMap
	for _, r := range res.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var into any
		switch k := r.GetKind(); {
		case k == "DaemonSet" && ds == nil:
			ds = new(appsv1.DaemonSet)
			into = ds
		case k == "ConfigMap" && cm == nil:
			cm = new(corev1.ConfigMap)
			into = cm
		default:
			t.Fatalf("unexpected object %s %s", k, r.GetName())
		}
		if err := yaml.UnmarshalStrict(data, into); err != nil {
			t.Fatalf("%s %s: %v", r.GetKind(), r.GetName(), err)
		}
	}
	if ds == nil || cm == nil {
		t.Fatalf("rendered DaemonSet %v, ConfigMap %v: want both", ds != nil, cm != nil)
	}
	if !strings.HasPrefix(cm.Name, "kcred-config-") {
		t.Errorf("ConfigMap %s: want kcred-config with a content hash", cm.Name)
	}
	return ds, cm
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
