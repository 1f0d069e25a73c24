package plugin

import (
	"flag"
	"log/slog"

	"github.com/kcred/kcred/tokencache"
)

// Role is one provider personality of the kcred binary, selected by the name
// the binary was invoked as (or `kcred plugin NAME`).
type Role struct {
	// Name is the binary name the kubelet config uses, e.g.
	// "ecr-credential-provider".
	Name string
	// Aliases are other names that select the same role.
	Aliases []string
	// Summary is one line for `kcred --help`.
	Summary string
	// Args describes the positional arguments for --help, e.g.
	// "AZURE_JSON"; empty when the role takes none.
	Args string
	// Setup registers the role's own flags on fs (the runtime has already
	// registered the shared ones: --v, --cache-dir, --version) and returns
	// the constructor the runtime calls after parsing, with the positional
	// arguments that remain.
	Setup func(fs *flag.FlagSet) func(env Env, args []string) (Provider, error)
}

// Env is what the runtime hands a role's constructor.
type Env struct {
	// Role is the role's canonical name, for error messages and cache keys.
	Role string
	// Cache is the node's shared token cache; nil when caching is off or
	// the directory is unusable (a nil *tokencache.Cache always fetches).
	Cache *tokencache.Cache
	// Log writes to stderr at the verbosity given by --v. Never log secrets.
	Log *slog.Logger
}
