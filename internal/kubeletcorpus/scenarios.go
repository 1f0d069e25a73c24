package kubeletcorpus

import (
	"fmt"
	"sort"
	"strings"
)

const (
	v1       = "credentialprovider.kubelet.k8s.io/v1"
	v1beta1  = "credentialprovider.kubelet.k8s.io/v1beta1"
	v1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"
)

// cfg is a CredentialProviderConfig of config version ver (v1, v1beta1,
// v1alpha1) holding the given provider entries (YAML list items).
func cfg(ver string, providers ...string) string {
	return "apiVersion: kubelet.config.k8s.io/" + ver + "\nkind: CredentialProviderConfig\nproviders:\n" + strings.Join(providers, "")
}

// entry is one provider list item; extra lines are indented YAML fields.
func entry(name, apiVersion, defaultCacheDuration string, matchImages []string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  apiVersion: %s\n  matchImages: [%s]\n", name, apiVersion, quoteAll(matchImages))
	if defaultCacheDuration != "" {
		fmt.Fprintf(&b, "  defaultCacheDuration: %s\n", defaultCacheDuration)
	}
	for _, e := range extra {
		b.WriteString("  " + e + "\n")
	}
	return b.String()
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// resp is a CredentialProviderResponse; duration "" leaves cacheDuration out.
// auth alternates key, username (the password is "pw-" + username).
func resp(apiVersion, keyType, duration string, auth ...string) string {
	var entries []string
	for i := 0; i+1 < len(auth); i += 2 {
		entries = append(entries, fmt.Sprintf("%q:{\"username\":%q,\"password\":%q}", auth[i], auth[i+1], "pw-"+auth[i+1]))
	}
	sort.Strings(entries)
	d := ""
	if duration != "" {
		d = fmt.Sprintf(",\"cacheDuration\":%q", duration)
	}
	return fmt.Sprintf(`{"kind":"CredentialProviderResponse","apiVersion":%q,"cacheKeyType":%q%s,"auth":{%s}}`, apiVersion, keyType, d, strings.Join(entries, ","))
}

func one(name, content string) map[string]string { return map[string]string{name: content} }

func answers(stdout string) Plugin { return Plugin{Stdout: stdout} }

// Scenarios is the fidelity corpus: every scenario runs through the
// simulator and the real kubelet, which must agree on start-up errors, the
// execs and their requests, cache hits, error classes and the credentials
// with their order.
func Scenarios() []Scenario {
	regImages := []string{"registry.io/app", "registry.io/app:v2", "registry.io/other", "other.io/app"}
	s := []Scenario{
		{
			Name:    "valid v1, Registry answer reused",
			Files:   one("c.yaml", cfg("v1", entry("p", v1, "10m", []string{"registry.io", "*.registry.io"}))),
			Plugins: map[string]Plugin{"p": answers(resp(v1, "Registry", "1h", "registry.io", "p-reg"))},
			Images:  append(regImages, "eu.registry.io/app"),
		},
		{
			Name:  "v1beta1 and v1alpha1 providers, JSON config",
			Files: one("c.json", `{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"CredentialProviderConfig","providers":[{"name":"b","matchImages":["registry.io"],"defaultCacheDuration":"1m","apiVersion":"`+v1beta1+`"},{"name":"a","matchImages":["registry.io"],"defaultCacheDuration":"1m","apiVersion":"`+v1alpha1+`"}]}`),
			Plugins: map[string]Plugin{
				"b": answers(resp(v1beta1, "Image", "", "registry.io", "b")),
				"a": answers(resp(v1alpha1, "Image", "", "registry.io", "a")),
			},
			Images: regImages,
		},
		{
			Name:    "wrong apiVersion in the answer, errors not cached",
			Files:   one("c.yaml", cfg("v1", entry("p", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{"p": answers(resp(v1beta1, "Registry", "1h", "registry.io", "u"))},
			Images:  []string{"registry.io/app", "registry.io/app"},
		},
		{
			Name:    "YAML answer",
			Files:   one("c.yaml", cfg("v1", entry("p", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{"p": answers("kind: CredentialProviderResponse\napiVersion: " + v1 + "\ncacheKeyType: Registry\n")},
			Images:  []string{"registry.io/app"},
		},
		{
			Name:  "answers the strict decoder refuses or accepts",
			Files: one("c.yaml", cfg("v1", entry("unknown", v1, "10m", []string{"registry.io"}), entry("numeric", v1, "10m", []string{"registry.io"}), entry("nokind", v1, "10m", []string{"registry.io"}), entry("trailing", v1, "10m", []string{"registry.io"}), entry("empty", v1, "10m", []string{"registry.io"}), entry("spaces", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{
				"unknown":  answers(strings.Replace(resp(v1, "Registry", "1h", "registry.io", "u"), `"auth"`, `"extra":1,"auth"`, 1)),
				"numeric":  answers(`{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Registry","cacheDuration":300}`),
				"nokind":   answers(`{"apiVersion":"` + v1 + `","cacheKeyType":"Registry"}`),
				"trailing": answers(resp(v1, "Registry", "1h", "registry.io", "t") + " garbage"),
				"empty":    {},
				"spaces":   answers("\n  " + resp(v1, "Registry", "1h", "registry.io", "s") + "\n\n"),
			},
			Images: []string{"registry.io/app", "registry.io/app"},
		},
		{
			Name:  "invalid cacheKeyType",
			Files: one("c.yaml", cfg("v1", entry("lower", v1, "10m", []string{"registry.io"}), entry("blank", v1, "10m", []string{"registry.io"}), entry("sa", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{
				"lower": answers(resp(v1, "registry", "1h", "registry.io", "l")),
				"blank": answers(resp(v1, "", "1h", "registry.io", "b")),
				"sa":    answers(resp(v1, "ServiceAccount", "1h", "registry.io", "s")),
			},
			Images: []string{"registry.io/app", "registry.io/app"},
		},
		{
			Name: "cacheDuration 0, absent, negative",
			Files: one("c.yaml", cfg("v1",
				entry("zero", v1, "10m", []string{"registry.io"}),
				entry("absent-default0", v1, "0s", []string{"registry.io"}),
				entry("absent-default10m", v1, "10m", []string{"registry.io"}),
				entry("negative", v1, "10m", []string{"registry.io"}),
			)),
			Plugins: map[string]Plugin{
				"zero":              answers(resp(v1, "Image", "0s", "registry.io", "zero")),
				"absent-default0":   answers(resp(v1, "Image", "", "registry.io", "absent0")),
				"absent-default10m": answers(resp(v1, "Image", "", "registry.io", "absent10m")),
				"negative":          answers(resp(v1, "Image", "-1m", "registry.io", "negative")),
			},
			Images: []string{"registry.io/app", "registry.io/app", "registry.io/app"},
		},
		{
			Name: "two providers with overlapping keys",
			Files: one("c.yaml", cfg("v1",
				entry("first", v1, "10m", []string{"registry.io", "*.registry.io"}),
				entry("second", v1, "10m", []string{"registry.io"}),
			)),
			Plugins: map[string]Plugin{
				"first":  answers(resp(v1, "Registry", "1h", "registry.io", "first-reg", "*.registry.io", "first-glob", "https://registry.io/v2/tea", "first-v2", "registry.io/team", "first-team")),
				"second": answers(resp(v1, "Registry", "1h", "registry.io/team", "second-team", "registry.io:443", "second-port", "registry.io/teamz", "second-teamz")),
			},
			Images: []string{"registry.io/team/app", "registry.io/teamzz", "registry.io/other", "eu.registry.io/team/app"},
		},
		{
			Name:    "Global answer reused for other registries",
			Files:   one("c.yaml", cfg("v1", entry("g", v1, "10m", []string{"*.io", "*.*.io"}))),
			Plugins: map[string]Plugin{"g": answers(resp(v1, "Global", "1h", "a.io", "g-a", "*.b.io", "g-b"))},
			Images:  []string{"a.io/x", "c.io/y", "x.b.io/z", "a.io/y", "registry.k8s.io/pause"},
		},
		{
			Name:    "Registry answer not matching the next repository",
			Files:   one("c.yaml", cfg("v1", entry("r", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{"r": answers(resp(v1, "Registry", "1h", "registry.io/team-a", "r-a"))},
			Images:  []string{"registry.io/team-a/app", "registry.io/team-b/app", "registry.io/team-a/other"},
		},
		{
			Name:    "empty answer is cached and suppresses execs",
			Files:   one("c.yaml", cfg("v1", entry("empty", v1, "10m", []string{"registry.io"}), entry("image", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{"empty": answers(resp(v1, "Registry", "1h")), "image": answers(resp(v1, "Image", "1h", "registry.io", "image"))},
			Images:  []string{"registry.io/a", "registry.io/b", "registry.io/a@sha256:" + strings.Repeat("b", 64)},
		},
		{
			Name:    "plugin fails with stderr",
			Files:   one("c.yaml", cfg("v1", entry("bad", v1, "10m", []string{"registry.io"}), entry("good", v1, "10m", []string{"registry.io"}))),
			Plugins: map[string]Plugin{"bad": {Stderr: "bad: no credentials: instance profile missing (check the node role)\n", Exit: 1}, "good": answers(resp(v1, "Image", "1h", "registry.io", "good"))},
			Images:  []string{"registry.io/app", "registry.io/app"},
		},
		{
			Name:    "args verbatim and config env after the kubelet's",
			Files:   one("c.yaml", cfg("v1", entry("env", v1, "0s", []string{"registry.io"}, `args: ["--flag=a b", "second"]`, `env: [{name: KCRED_CORPUS_ENV, value: from-config}, {name: KCRED_CORPUS_ONLY, value: only}]`))),
			Plugins: map[string]Plugin{"env": {Script: `printf '{"kind":"CredentialProviderResponse","apiVersion":"` + v1 + `","cacheKeyType":"Image","auth":{"registry.io":{"username":"%s|%s|%s","password":"%s"}}}' "$KCRED_CORPUS_ENV" "$KCRED_CORPUS_ONLY" "$1" "$2"`}},
			Images:  []string{"registry.io/app"},
		},
		{
			Name:    "Docker Hub normalisation and index.docker.io key",
			Files:   one("c.yaml", cfg("v1", entry("hub", v1, "10m", []string{"docker.io"}))),
			Plugins: map[string]Plugin{"hub": answers(resp(v1, "Registry", "1h", "https://index.docker.io/v1/", "hub"))},
			Images:  []string{"nginx", "library/nginx:1.25", "docker.io/foo/bar", "index.docker.io/library/nginx@sha256:" + strings.Repeat("a", 64), "registry.io/Foo"},
		},
		{
			Name: "globs, ports and paths in matchImages",
			Files: one("c.yaml", cfg("v1",
				entry("star-io", v1, "0s", []string{"*.io"}),
				entry("star-k8s", v1, "0s", []string{"*.k8s.io"}),
				entry("port", v1, "0s", []string{"registry.io:5000"}),
				entry("path", v1, "0s", []string{"registry.io/team"}),
				entry("scheme", v1, "0s", []string{"https://registry.io"}),
				entry("pathglob", v1, "0s", []string{"registry.io/*"}),
				entry("partial", v1, "0s", []string{"*-docker.pkg.dev"}),
				entry("star", v1, "0s", []string{"*"}),
			)),
			Plugins: map[string]Plugin{
				"star-io":  answers(resp(v1, "Image", "", "*.io", "star-io")),
				"star-k8s": answers(resp(v1, "Image", "", "*.k8s.io", "star-k8s")),
				"port":     answers(resp(v1, "Image", "", "registry.io:5000", "port")),
				"path":     answers(resp(v1, "Image", "", "registry.io/team", "path")),
				"scheme":   answers(resp(v1, "Image", "", "registry.io", "scheme")),
				"pathglob": answers(resp(v1, "Image", "", "registry.io", "pathglob")),
				"partial":  answers(resp(v1, "Image", "", "*-docker.pkg.dev", "partial")),
				"star":     answers(resp(v1, "Image", "", "*", "star", "localhost:5000", "star-port")),
			},
			Images: []string{"registry.k8s.io/pause", "quay.io/x", "registry.io:5000/app", "registry.io/teamz/app", "registry.io/app", "europe-docker.pkg.dev/p/r/i", "localhost/foo", "localhost:5000/foo", "nginx"},
		},
		{
			Name: "config directory with mixed versions",
			Files: map[string]string{
				"20-b.yml":  cfg("v1beta1", entry("b", v1beta1, "1m", []string{"registry.io"})),
				"10-a.json": `{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"a","matchImages":["registry.io"],"defaultCacheDuration":"1m","apiVersion":"` + v1 + `"}]}`,
				"30-c.txt":  "ignored",
			},
			Plugins: map[string]Plugin{
				"a": answers(resp(v1, "Image", "", "registry.io", "a")),
				"b": answers(resp(v1beta1, "Image", "", "registry.io", "b")),
			},
			Images: []string{"registry.io/app"},
		},
		{
			// The stock GKE / GCE config of auth-provider-gcp; the plugin
			// answers under the registry it was asked for, as kcred does.
			Name: "GCP-style: stock auth-provider-gcp config",
			Files: one("c.yaml", cfg("v1", entry("auth-provider-gcp", v1, "1m",
				[]string{"container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"}, `args: [get-credentials, --v=3]`))),
			Plugins: map[string]Plugin{"auth-provider-gcp": answers(resp(v1, "Registry", "55m", "europe-docker.pkg.dev", "oauth2accesstoken"))},
			Images: []string{"europe-docker.pkg.dev/p/r/app", "europe-docker.pkg.dev/p/r/other", "gcr.io/p/app", "eu.gcr.io/p/app",
				"container.cloud.google.com/x", "a.b.pkg.dev/x", "gcr.io.example.com/x", "europe-docker.pkg.dev:443/p/r/app"},
		},
	}
	s = append(s, serviceAccountScenarios()...)
	s = append(s, startupScenarios()...)
	return s
}
