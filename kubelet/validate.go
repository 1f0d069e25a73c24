package kubelet

import (
	"fmt"
	"sort"
	"strings"

	configv1 "github.com/kcred/kcred/internal/kubeapi/v1"
)

// The plugin apiVersions the kubelet accepts, sorted as its message lists them.
var apiVersions = []string{
	"credentialprovider.kubelet.k8s.io/v1",
	"credentialprovider.kubelet.k8s.io/v1alpha1",
	"credentialprovider.kubelet.k8s.io/v1beta1",
}

const apiVersionV1 = "credentialprovider.kubelet.k8s.io/v1"

var cacheTypes = []string{CacheTypeServiceAccount, CacheTypeToken}

// Validate applies the kubelet's config validation (with the
// KubeletServiceAccountTokenForCredentialProviders gate on, its default since
// 1.34) and returns nil or the kubelet's start-up error, all problems
// aggregated with its exact messages.
func Validate(cfg *Config) error {
	return validate(cfg, true)
}

// validate takes the state of the KubeletServiceAccountTokenForCredentialProviders
// gate, which only adds one rule.
func validate(cfg *Config, saTokenGate bool) error {
	if errs := validateProviders(cfg.Providers, saTokenGate); len(errs) > 0 {
		return fmt.Errorf("failed to validate credential provider config: %v", errs.aggregate())
	}
	return nil
}

func validateProviders(providers []Provider, saTokenGate bool) fieldErrors {
	var errs fieldErrors
	if len(providers) == 0 {
		errs = append(errs, required("providers", "at least 1 item in plugins is required"))
	}
	fp := "providers"
	seen := map[string]bool{}
	for _, p := range providers {
		if strings.Contains(p.Name, "/") {
			errs = append(errs, invalid(fp+".name", p.Name, "provider name cannot contain '/'"))
		}
		if strings.Contains(p.Name, " ") {
			errs = append(errs, invalid(fp+".name", p.Name, "provider name cannot contain spaces"))
		}
		if p.Name == "." {
			errs = append(errs, invalid(fp+".name", p.Name, "provider name cannot be '.'"))
		}
		if p.Name == ".." {
			errs = append(errs, invalid(fp+".name", p.Name, "provider name cannot be '..'"))
		}
		// Unreachable through LoadConfig (it refuses duplicates first), kept
		// for configs built in code.
		if seen[p.Name] {
			errs = append(errs, duplicate(fp+".name", p.Name))
		}
		seen[p.Name] = true

		switch {
		case p.APIVersion == "":
			errs = append(errs, required(fp+".apiVersion", ""))
		case !contains(apiVersions, p.APIVersion):
			errs = append(errs, notSupported(fp+".apiVersion", p.APIVersion, apiVersions))
		}
		if len(p.MatchImages) == 0 {
			errs = append(errs, required(fp+".matchImages", "at least 1 item in matchImages is required"))
		}
		for _, mi := range p.MatchImages {
			if _, err := parseSchemeless(mi); err != nil {
				errs = append(errs, invalid(fp+".matchImages", mi, fmt.Sprintf("match image is invalid: %s", err.Error())))
			}
		}
		if p.DefaultCacheDuration == nil {
			errs = append(errs, required(fp+".defaultCacheDuration", ""))
		} else if *p.DefaultCacheDuration < 0 {
			errs = append(errs, invalid(fp+".defaultCacheDuration", &configv1.Duration{Duration: *p.DefaultCacheDuration}, "must be greater than or equal to 0"))
		}
		if p.TokenAttributes != nil {
			errs = append(errs, validateTokenAttributes(fp+".tokenAttributes", p, saTokenGate)...)
		}
	}
	return errs
}

func validateTokenAttributes(fp string, p Provider, saTokenGate bool) fieldErrors {
	var errs fieldErrors
	t := p.TokenAttributes
	if !saTokenGate {
		errs = append(errs, forbidden(fp, "tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"))
	}
	if t.ServiceAccountTokenAudience == "" {
		errs = append(errs, required(fp+".serviceAccountTokenAudience", ""))
	}
	if t.RequireServiceAccount == nil {
		errs = append(errs, required(fp+".requireServiceAccount", ""))
	}
	if p.APIVersion != apiVersionV1 {
		errs = append(errs, forbidden(fp, fmt.Sprintf("tokenAttributes is only supported for %s API version", apiVersionV1)))
	}
	if t.RequireServiceAccount != nil && !*t.RequireServiceAccount && len(t.RequiredServiceAccountAnnotationKeys) > 0 {
		errs = append(errs, forbidden(fp+".requiredServiceAccountAnnotationKeys", "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set"))
	}
	errs = append(errs, validateAnnotationKeys(fp+".requiredServiceAccountAnnotationKeys", t.RequiredServiceAccountAnnotationKeys)...)
	errs = append(errs, validateAnnotationKeys(fp+".optionalServiceAccountAnnotationKeys", t.OptionalServiceAccountAnnotationKeys)...)
	var both []string
	for _, k := range dedupe(t.RequiredServiceAccountAnnotationKeys) {
		if contains(t.OptionalServiceAccountAnnotationKeys, k) {
			both = append(both, k)
		}
	}
	if len(both) > 0 {
		sort.Strings(both)
		errs = append(errs, invalid(fp, both, "annotation keys cannot be both required and optional"))
	}
	switch {
	case t.CacheType == "":
		errs = append(errs, required(fp+".cacheType", fmt.Sprintf("cacheType is required to be set when tokenAttributes is specified. Supported values are: %s", strings.Join(cacheTypes, ", "))))
	case contains(cacheTypes, t.CacheType):
	default:
		errs = append(errs, notSupported(fp+".cacheType", t.CacheType, cacheTypes))
	}
	return errs
}

// validateAnnotationKeys: a qualified name, case-insensitively, and no repeat.
func validateAnnotationKeys(fp string, keys []string) fieldErrors {
	var errs fieldErrors
	seen := map[string]bool{}
	for _, k := range keys {
		for _, msg := range isQualifiedName(strings.ToLower(k)) {
			errs = append(errs, invalid(fp, k, msg))
		}
		if seen[k] {
			errs = append(errs, duplicate(fp, k))
		}
		seen[k] = true
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
