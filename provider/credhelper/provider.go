package credhelper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/match"
	"github.com/kcred/kcred/plugin"
)

// Role is the credential-helper-provider role.
var Role = plugin.Role{
	Name:    "credential-helper-provider",
	Summary: "any registry through a docker credential helper (docker-credential-NAME get)",
	Setup: func(fs *flag.FlagSet) func(plugin.Env, []string) (plugin.Provider, error) {
		var o Options
		fs.StringVar(&o.Helper, "helper", "", "run docker-credential-NAME, found on PATH (e.g. ecr-login, gcr, pass)")
		fs.StringVar(&o.HelperPath, "helper-path", "", "run this helper executable instead of looking one up (must not be writable by group or others)")
		fs.DurationVar(&o.CacheDuration, "cache-duration", 0, "how long the kubelet may cache an answer (default: its defaultCacheDuration); set it below the helper's credential lifetime")
		fs.Func("pass-env", "NAME or PREFIX*: also give the helper these variables (e.g. from the provider's env in the kubelet config); repeatable. It always gets "+strings.Join(baseEnv, ", "), func(s string) error {
			for _, p := range strings.Split(s, ",") {
				if !envPattern().MatchString(p) {
					return fmt.Errorf("%q is not a variable name or PREFIX*", p)
				}
				o.PassEnv = append(o.PassEnv, p)
			}
			return nil
		})
		return func(env plugin.Env, args []string) (plugin.Provider, error) {
			if len(args) > 0 {
				return nil, plugin.Fail("unexpected argument "+plugin.Quote(args[0]), nil, "name the helper with --helper or --helper-path")
			}
			return New(env, o)
		}
	},
}

// The patterns are compiled on first use, not at package init: init runs on
// every exec of every role.
var (
	helperName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	})
	envPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\*?$`)
	})
)

// Options configure a Provider.
type Options struct {
	// Helper is NAME of docker-credential-NAME on PATH.
	Helper string
	// HelperPath is the helper's path; exclusive with Helper.
	HelperPath string
	// CacheDuration, when positive, is the cacheDuration answered.
	CacheDuration time.Duration
	// PassEnv names the variables given to the helper beyond baseEnv.
	PassEnv []string
}

// Provider runs one credential helper per request.
type Provider struct {
	path    string
	env     []string
	o       Options
	plugEnv plugin.Env
}

// New resolves the helper. A helper is code the node runs as the kubelet's
// user (root), so one that others can modify is refused.
func New(env plugin.Env, o Options) (*Provider, error) {
	var path string
	switch {
	case o.Helper != "" && o.HelperPath != "":
		return nil, plugin.Fail("--helper and --helper-path both given", nil, "name the helper once")
	case o.Helper != "":
		if !helperName().MatchString(o.Helper) {
			return nil, plugin.Fail("--helper "+plugin.Quote(o.Helper), errors.New("want the NAME of docker-credential-NAME, e.g. ecr-login"), "or give a file with --helper-path")
		}
		p, err := exec.LookPath("docker-credential-" + o.Helper)
		if err != nil {
			return nil, plugin.Fail("find docker-credential-"+o.Helper, err, "install the helper in a directory of the kubelet's PATH, or give its file with --helper-path")
		}
		path = p
	case o.HelperPath != "":
		path = o.HelperPath
	default:
		return nil, plugin.Fail("no helper", nil, "give --helper NAME for docker-credential-NAME on PATH, or --helper-path FILE")
	}
	if o.CacheDuration < 0 {
		return nil, plugin.Fail("--cache-duration "+o.CacheDuration.String()+" is negative", nil, "give a positive duration or omit it")
	}
	if err := checkExecutable(path); err != nil {
		return nil, plugin.Fail("credential helper", err, "install it owned by root and not writable by group or others")
	}
	return &Provider{path: path, env: helperEnv(os.Environ(), o.PassEnv), o: o, plugEnv: env}, nil
}

// checkExecutable refuses what is not a regular executable file, or is
// writable by group or others, or belongs to a user other than root and
// kcred's. Windows has ACLs, not mode bits (Go reports
// 0666 for every writable file there): only the file type is checked.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case runtime.GOOS == "windows":
		return nil
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not executable", path)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by group or others, mode %s", path, fi.Mode().Perm())
	case safefile.Foreign(fi):
		return fmt.Errorf("%s belongs to another user, who could rewrite it", path)
	}
	return nil
}

// Credentials runs the helper's get for the requested registry and answers
// its credential under that registry. "credentials not found" is an empty
// answer, not an error.
func (p *Provider) Credentials(ctx context.Context, req plugin.Request) (plugin.Answer, error) {
	server := req.Registry
	if image, err := match.Normalize(req.Image); err == nil && match.IsDefaultRegistryMatch(image) {
		// Docker Hub is stored under docker's legacy URL.
		server = dockerHubServer
	}
	log := p.plugEnv.Log
	start := time.Now()
	ans, found, stderr, err := run(ctx, p.path, p.env, server)
	if stderr != "" {
		log.Info("credential helper stderr", "helper", p.path, "stderr", stderr)
	}
	if err != nil {
		check := "run the helper by hand as the kubelet's user: echo " + server + " | " + p.path + " get"
		if errors.Is(err, errIdentityToken) {
			check = identityTokenHint
		}
		return plugin.Answer{}, plugin.Fail(fmt.Sprintf("%s get %s", p.path, server), err, check)
	}
	log.Info("credential helper answered", "helper", p.path, "server", server, "found", found, "took", time.Since(start).Round(time.Millisecond))
	if !found {
		return plugin.Answer{}, nil
	}
	a := plugin.Answer{
		Auth:         map[string]plugin.AuthConfig{req.Registry: {Username: ans.Username, Password: ans.Secret}},
		CacheKeyType: plugin.CacheKeyRegistry,
	}
	if p.o.CacheDuration > 0 {
		// The runtime answers cacheDuration = ExpiresAt - now - Margin,
		// truncated to seconds; the extra second absorbs the moments
		// between here and its now.
		a.ExpiresAt = time.Now().Add(p.o.CacheDuration + plugin.Margin + time.Second)
	}
	return a, nil
}
