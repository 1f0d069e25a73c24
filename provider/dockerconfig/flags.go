package dockerconfig

import (
	"flag"

	"github.com/kcred/kcred/plugin"
)

// DefaultPath is where the role looks for its file without --config.
const DefaultPath = "/etc/kcred/dockerconfig.json"

// Role is the dockerconfig-credential-provider role.
var Role = plugin.Role{
	Name:    "dockerconfig-credential-provider",
	Summary: "static credentials from a Docker config.json on the node (any registry)",
	Setup: func(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
		path := fs.String("config", DefaultPath, "Docker config.json whose \"auths\" are served")
		return func(env plugin.Env, args []string) (plugin.Provider, error) {
			if len(args) > 0 {
				return nil, plugin.Fail("unexpected argument "+plugin.Quote(args[0]), nil, "the file is given with --config")
			}
			return New(env, *path), nil
		}
	},
}
