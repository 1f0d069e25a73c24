// Package acr is the Azure Container Registry provider: the drop-in
// `acr-credential-provider` role. It obtains an Entra ID token for an Azure
// identity (managed identity, service principal, workload identity or the
// pod's service account), exchanges it at the registry for an ACR refresh
// token and returns that as the password of the null-GUID user.
package acr

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud is one Azure cloud: its Entra ID authority and its registry suffix.
type Cloud struct {
	// Name is the canonical azure.json `cloud` value.
	Name string
	// Config holds the Entra ID authority host.
	Config cloud.Configuration
	// RegistrySuffix is the DNS suffix of its registries, e.g. "azurecr.io".
	RegistrySuffix string
}

// clouds are the Azure clouds kcred knows. Azure Germany (azurecr.de) was
// closed in 2021; Azure Stack needs an environment file kcred does not read.
var clouds = []Cloud{
	{Name: "AzurePublicCloud", Config: cloud.AzurePublic, RegistrySuffix: "azurecr.io"},
	{Name: "AzureChinaCloud", Config: cloud.AzureChina, RegistrySuffix: "azurecr.cn"},
	{Name: "AzureUSGovernmentCloud", Config: cloud.AzureGovernment, RegistrySuffix: "azurecr.us"},
}

// cloudAliases maps the lower-cased azure.json spellings (those of
// cloud-provider-azure and of the Azure SDKs) to a cloud index.
var cloudAliases = map[string]int{
	"": 0, "azurepubliccloud": 0, "azurecloud": 0, "public": 0,
	"azurechinacloud": 1, "china": 1,
	"azureusgovernmentcloud": 2, "azureusgovernment": 2, "usgovernment": 2,
}

// cloudByName resolves the azure.json `cloud` field ("" is public).
func cloudByName(name string) (Cloud, error) {
	i, ok := cloudAliases[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		names := make([]string, 0, len(clouds))
		for _, c := range clouds {
			names = append(names, c.Name)
		}
		sort.Strings(names)
		return Cloud{}, fmt.Errorf("unknown cloud %q in the Azure config (use one of %s)", name, strings.Join(names, ", "))
	}
	return clouds[i], nil
}

// The patterns are compiled on first use, not at package init: init runs on
// every exec of every role.
var (
	// registryName is an ACR name, optionally with the data-endpoint hash
	// suffix of domain-name-label registries ("myreg-abc123").
	registryName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)?$`)
	})
	regionName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+$`)
	})
)

// loginServer recognises an ACR registry host, with an optional :443 port:
// `<name>.<suffix>` or the regional `<name>.<region>.geo.<suffix>`, where
// suffix is one cloud's registry suffix. It returns the lower-cased login
// server and its cloud. Matching is by exact labels: "evilazurecr.io" or
// "myreg.azurecr.io.example.com" are not ACR.
func loginServer(registry string) (string, Cloud, bool) {
	host := strings.ToLower(registry)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if port != "443" {
			return "", Cloud{}, false
		}
		host = h
	}
	for _, c := range clouds {
		rest, ok := strings.CutSuffix(host, "."+c.RegistrySuffix)
		if !ok {
			continue
		}
		labels := strings.Split(rest, ".")
		switch {
		case len(labels) == 1 && registryName().MatchString(labels[0]):
			return host, c, true
		case len(labels) == 3 && labels[2] == "geo" && registryName().MatchString(labels[0]) && regionName().MatchString(labels[1]):
			return host, c, true
		}
		return "", Cloud{}, false
	}
	return "", Cloud{}, false
}
