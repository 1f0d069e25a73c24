package kubeletcorpus

// saConfig has one service-account provider of each flavour and one plain
// provider.
var saConfig = cfg("v1",
	entry("sa", v1, "10m", []string{"registry.io"},
		"tokenAttributes:",
		"  serviceAccountTokenAudience: registry.io",
		"  cacheType: ServiceAccount",
		"  requireServiceAccount: true",
		"  requiredServiceAccountAnnotationKeys: [kcred.io/role]",
		"  optionalServiceAccountAnnotationKeys: [kcred.io/opt, kcred.io/absent]"),
	entry("sa-optional", v1, "10m", []string{"registry.io"},
		"tokenAttributes: {serviceAccountTokenAudience: aud-2, cacheType: Token, requireServiceAccount: false}"),
	entry("plain", v1, "10m", []string{"registry.io"}),
)

var saPlugins = map[string]Plugin{
	"sa":          answers(resp(v1, "Registry", "1h", "registry.io", "sa")),
	"sa-optional": answers(resp(v1, "Image", "1h", "registry.io", "sa-optional")),
	"plain":       answers(resp(v1, "Registry", "1h", "registry.io", "plain")),
}

// echoToken answers with the request's service-account token as password.
const echoToken = `TOKEN=$(printf '%s' "$REQ" | sed 's/.*"serviceAccountToken":"\([^"]*\)".*/\1/')
printf '{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","auth":{"registry.io":{"username":"echo","password":"%s"}}}' "$TOKEN"`

func sa(annotations map[string]string, token string) *ServiceAccount {
	return &ServiceAccount{Namespace: "team", Name: "puller", UID: "0b7c3a59-8a3e-4c55-9d5e-3a0e4e4e0c11", Annotations: annotations, Token: token}
}

func serviceAccountScenarios() []Scenario {
	full := map[string]string{"kcred.io/role": "reader", "kcred.io/opt": "x", "unrelated.io/a": "b"}
	return []Scenario{
		{
			Name: "service account with annotations", Files: one("c.yaml", saConfig), Plugins: saPlugins,
			Images:         []string{"registry.io/app", "registry.io/app", "registry.io/other"},
			ServiceAccount: sa(full, "sa-token-1"),
		},
		{
			Name: "no service account", Files: one("c.yaml", saConfig), Plugins: saPlugins,
			Images: []string{"registry.io/app", "registry.io/app"},
		},
		{
			Name: "required annotation missing", Files: one("c.yaml", saConfig), Plugins: saPlugins,
			Images:         []string{"registry.io/app"},
			ServiceAccount: sa(map[string]string{"kcred.io/opt": "x"}, "sa-token-1"),
		},
		{
			Name: "token request fails", Files: one("c.yaml", saConfig), Plugins: saPlugins,
			Images:         []string{"registry.io/app"},
			ServiceAccount: sa(full, ""),
		},
		{
			Name: "token echoed as password",
			Files: one("c.yaml", cfg("v1",
				entry("echo-sa", v1, "10m", []string{"registry.io"}, "tokenAttributes: {serviceAccountTokenAudience: aud, cacheType: ServiceAccount, requireServiceAccount: true}"),
				entry("echo-token", v1, "10m", []string{"registry.io"}, "tokenAttributes: {serviceAccountTokenAudience: aud, cacheType: Token, requireServiceAccount: true}"),
			)),
			Plugins:        map[string]Plugin{"echo-sa": {Script: echoToken}, "echo-token": {Script: echoToken}},
			Images:         []string{"registry.io/app", "registry.io/app"},
			ServiceAccount: sa(nil, "sa-token-2"),
		},
	}
}
