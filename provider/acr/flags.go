package acr

import (
	"flag"

	"github.com/kcred/kcred/plugin"
)

// Role is `acr-credential-provider`, a drop-in for cloud-provider-azure's
// binary: `acr-credential-provider /etc/kubernetes/azure.json
// [--registry-mirror=SRC:DST[,SRC:DST]]`.
var Role = plugin.Role{
	Name:    "acr-credential-provider",
	Args:    "AZURE_JSON  (the cloud config, e.g. /etc/kubernetes/azure.json)",
	Summary: "Azure Container Registry (drop-in for cloud-provider-azure acr-credential-provider)",
	Setup: func(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
		var o Options
		mf := mirrorFlag{&o.Mirrors}
		fs.Var(mf, "registry-mirror", "SOURCE:TARGET[,SOURCE:TARGET...]: images on SOURCE (host[:port][/path]) get the credential of the ACR TARGET; repeatable")
		fs.Var(mf, "r", "shorthand for --registry-mirror")
		fs.BoolVar(&o.Passthrough, "service-principal-passthrough", false, "with a service principal secret, return aadClientId/aadClientSecret as the registry credential (upstream's behaviour) instead of exchanging an ACR token")
		return func(env plugin.Env, args []string) (plugin.Provider, error) {
			switch {
			case len(args) == 0:
				return nil, plugin.Fail("config file is not specified", nil, "pass the path of azure.json as the only argument")
			case len(args) > 1:
				return nil, plugin.Fail("expected exactly one argument, the path of azure.json", nil, "check the provider's args in the kubelet's credential provider config")
			}
			return New(env, args[0], o)
		}
	},
}
