// Package kubeletcorpus is the shared test corpus of the kubelet simulator:
// configs, scripted fake plugins and images that run through both the
// simulator (package kubelet) and the real kubelet (module test/kubelet).
package kubeletcorpus

import "strings"

// Invalid is a config the kubelet refuses at start-up.
type Invalid struct {
	Name string
	// Providers is the YAML of the config's providers list.
	Providers string
	// Want is the kubelet's validation message, after its prefix
	// "failed to validate credential provider config: ".
	Want string
}

// Validation holds the kubelet's validation rules, each with a config
// that breaks it and the kubelet's exact message (k8s.io/kubernetes v1.37.2,
// pkg/credentialprovider/plugin/config.go). test/kubelet runs the same
// configs through the real kubelet.
var Validation = []Invalid{
	{"no providers", `[]`, `providers: Required value: at least 1 item in plugins is required`},
	{"name with slash", Prov(`name: a/b`), `providers.name: Invalid value: "a/b": provider name cannot contain '/'`},
	{"name with space", Prov(`name: a b`), `providers.name: Invalid value: "a b": provider name cannot contain spaces`},
	{"name dot", Prov(`name: "."`), `providers.name: Invalid value: ".": provider name cannot be '.'`},
	{"name dotdot", Prov(`name: ".."`), `providers.name: Invalid value: "..": provider name cannot be '..'`},
	{"apiVersion empty", Prov(`apiVersion: ""`), `providers.apiVersion: Required value`},
	{"apiVersion unsupported", Prov(`apiVersion: credentialprovider.kubelet.k8s.io/v2`), `providers.apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v2": supported values: "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"`},
	{"matchImages empty", Prov(`matchImages: []`), `providers.matchImages: Required value: at least 1 item in matchImages is required`},
	{"matchImages invalid", Prov(`matchImages: ["%invalid%"]`), `providers.matchImages: Invalid value: "%invalid%": match image is invalid: parse "https://%invalid%": invalid URL escape "%in"`},
	{"defaultCacheDuration missing", Prov(`defaultCacheDuration: null`), `providers.defaultCacheDuration: Required value`},
	{"defaultCacheDuration negative", Prov(`defaultCacheDuration: -1m`), `providers.defaultCacheDuration: Invalid value: "-1m0s": must be greater than or equal to 0`},
	{"audience empty", Prov(`tokenAttributes: {requireServiceAccount: true, cacheType: Token}`), `providers.tokenAttributes.serviceAccountTokenAudience: Required value`},
	{"requireServiceAccount missing", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, cacheType: Token}`), `providers.tokenAttributes.requireServiceAccount: Required value`},
	{"tokenAttributes not v1", Prov(`apiVersion: credentialprovider.kubelet.k8s.io/v1beta1`, `tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: Token}`), `providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version`},
	{"required keys without requireServiceAccount", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: false, cacheType: Token, requiredServiceAccountAnnotationKeys: [a.io/b]}`), `providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set`},
	{"annotation key invalid", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: Token, optionalServiceAccountAnnotationKeys: ["a/b/c"]}`), `providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`},
	{"annotation key repeated", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: Token, requiredServiceAccountAnnotationKeys: [a.io/b, a.io/b]}`), `providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Duplicate value: "a.io/b"`},
	{"annotation key in both lists", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: Token, requiredServiceAccountAnnotationKeys: [a.io/b, a.io/a], optionalServiceAccountAnnotationKeys: [a.io/b, a.io/a]}`), `providers.tokenAttributes: Invalid value: ["a.io/a","a.io/b"]: annotation keys cannot be both required and optional`},
	{"cacheType empty", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true}`), `providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token`},
	{"cacheType unsupported", Prov(`tokenAttributes: {serviceAccountTokenAudience: aud, requireServiceAccount: true, cacheType: x}`), `providers.tokenAttributes.cacheType: Unsupported value: "x": supported values: "ServiceAccount", "Token"`},
	{"several errors aggregated", Prov(`name: a/b`, `matchImages: []`, `defaultCacheDuration: null`), `[providers.name: Invalid value: "a/b": provider name cannot contain '/', providers.matchImages: Required value: at least 1 item in matchImages is required, providers.defaultCacheDuration: Required value]`},
}

// Prov renders one v1 provider list with fields overridden (a field set to
// null is removed).
func Prov(overrides ...string) string {
	fields := []string{
		`name: p`,
		`matchImages: ["*.registry.io"]`,
		`defaultCacheDuration: 10m`,
		`apiVersion: credentialprovider.kubelet.k8s.io/v1`,
	}
	for _, o := range overrides {
		key, _, _ := strings.Cut(o, ":")
		replaced := false
		for i, f := range fields {
			if strings.HasPrefix(f, key+":") {
				fields[i], replaced = o, true
			}
		}
		if !replaced {
			fields = append(fields, o)
		}
	}
	var b strings.Builder
	for i, f := range fields {
		if strings.HasSuffix(f, ": null") {
			continue
		}
		if i == 0 {
			b.WriteString("\n- ")
		} else {
			b.WriteString("\n  ")
		}
		b.WriteString(f)
	}
	return b.String()
}

// ValidationConfig is a v1 config file holding providers.
func ValidationConfig(providers string) string {
	return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: " + providers + "\n"
}
