package ecr

import (
	"flag"
	"os"

	"github.com/kcred/kcred/plugin"
)

// Role is the ecr-credential-provider role. Like upstream it needs no
// arguments and ignores positional ones (configs pass get-credentials);
// AWS_ECR_ROLE_ARN names the service-account-mode fallback role.
var Role = plugin.Role{
	Name:    "ecr-credential-provider",
	Summary: "AWS ECR and ECR Public credentials (drop-in for cloud-provider-aws ecr-credential-provider)",
	Setup:   setup,
}

func setup(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
	annotation := fs.String("role-annotation", DefaultRoleAnnotation,
		"service-account annotation naming the IAM role to assume in service-account mode (fallback: $"+RoleARNEnv+")")
	return func(env plugin.Env, args []string) (plugin.Provider, error) {
		for _, a := range args {
			if a != "get-credentials" {
				env.Log.Debug("ignoring positional argument, as upstream does", "arg", a)
			}
		}
		return New(env, Options{RoleAnnotation: *annotation, Getenv: os.Getenv})
	}
}
