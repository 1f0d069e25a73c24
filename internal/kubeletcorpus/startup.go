package kubeletcorpus

import "strings"

// startupScenarios are configs and bin dirs the kubelet refuses to start
// with; the messages must be identical.
func startupScenarios() []Scenario {
	good := cfg("v1", entry("p", v1, "10m", []string{"registry.io"}))
	p := map[string]Plugin{"p": answers(resp(v1, "Image", "", "registry.io", "p"))}
	s := []Scenario{
		{Name: "bin dir missing", Files: one("c.yaml", good), NoBinDir: true},
		{Name: "binary missing", Files: one("c.yaml", good), Plugins: map[string]Plugin{"other": {}}},
		{Name: "binary not executable", Files: one("c.yaml", good), Plugins: map[string]Plugin{"p": {NotExecutable: true}}},
		{Name: "unknown config field", Files: one("c.yaml", good+"  unknownField: 1\n"), Plugins: p},
		{Name: "tokenAttributes in a v1beta1 config", Files: one("c.yaml", cfg("v1beta1", entry("p", v1, "10m", []string{"registry.io"}, "tokenAttributes: {serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true}"))), Plugins: p},
		{Name: "duplicate name across files", Files: map[string]string{"a.yaml": good, "b.yaml": good}, Plugins: p},
		{Name: "duplicate name in one file", Files: one("c.yaml", good+strings.SplitN(good, "providers:\n", 2)[1]), Plugins: p},
		{Name: "directory without config files", Files: map[string]string{"a.txt": good, "b.YAML": good}, Plugins: p},
		{Name: "duplicate YAML field", Files: one("c.yaml", good+"  name: q\n"), Plugins: p},
		// The decoding errors below name the kubelet's scheme and Go types,
		// which kcred's own decoder must reproduce.
		{Name: "kind not registered", Files: one("c.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: ImagePullIntent\n"), Plugins: p},
		{Name: "providers of the wrong type", Files: one("c.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: x\n"), Plugins: p},
		{Name: "v1beta1 env of the wrong type", Files: one("c.yaml", cfg("v1beta1", entry("p", v1, "10m", []string{"registry.io"}, "env: x"))), Plugins: p},
		{Name: "unparsable defaultCacheDuration", Files: one("c.yaml", cfg("v1", entry("p", v1, "10 minutes", []string{"registry.io"}))), Plugins: p},
	}
	// Every kind the kubelet's scheme knows in a config apiVersion besides
	// CredentialProviderConfig is refused as the wrong kind: kcred keeps its
	// own list of them, which these hold to the kubelet's.
	for _, k := range RefusedConfigKinds {
		s = append(s, Scenario{Name: "known kind refused: " + k, Files: one("c.yaml", "apiVersion: "+strings.Replace(k, " ", "\nkind: ", 1)+"\n"), Plugins: p})
	}
	for _, v := range Validation {
		s = append(s, Scenario{Name: "validation: " + v.Name, Files: one("c.yaml", ValidationConfig(v.Providers)), Plugins: p})
	}
	return s
}

// RefusedConfigKinds are the kinds, as "apiVersion kind", that the
// kubelet's k8s.io/kubelet/config packages register besides
// CredentialProviderConfig (v1beta1's register.go and v1alpha1's): a config
// file of one of them decodes, then is refused as the wrong kind.
var RefusedConfigKinds = []string{
	"kubelet.config.k8s.io/v1beta1 KubeletConfiguration",
	"kubelet.config.k8s.io/v1beta1 SerializedNodeConfigSource",
	"kubelet.config.k8s.io/v1beta1 ImagePullIntent",
	"kubelet.config.k8s.io/v1beta1 ImagePulledRecord",
	"kubelet.config.k8s.io/v1alpha1 ImagePullIntent",
	"kubelet.config.k8s.io/v1alpha1 ImagePulledRecord",
}
