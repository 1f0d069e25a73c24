package plugin

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kcred/kcred/internal/ascii"
)

// DefaultCacheDir is where the token cache lives when neither --cache-dir nor
// KCRED_CACHE_DIR says otherwise.
const DefaultCacheDir = "/var/lib/kcred/cache"

// options are the flags every role shares.
type options struct {
	verbosity   int
	showVersion bool
	cacheDir    string
	mirrors     []Mirror
}

// verbosityFlag is klog's --v=N. It is also a boolean flag so that a bare -v
// prints the version, as upstream ecr-credential-provider's -v does.
type verbosityFlag struct{ o *options }

func (f verbosityFlag) String() string {
	if f.o == nil {
		return "0"
	}
	return strconv.Itoa(f.o.verbosity)
}

func (f verbosityFlag) Set(s string) error {
	if s == "true" {
		f.o.showVersion = true
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New("want a log verbosity such as --v=3")
	}
	f.o.verbosity = n
	return nil
}

func (f verbosityFlag) IsBoolFlag() bool { return true }

// register adds the shared flags to fs, plus klog flags that upstream plugin
// configs pass, accepted and ignored (kcred always logs to stderr).
func (o *options) register(fs *flag.FlagSet) {
	fs.Var(verbosityFlag{o}, "v", "log verbosity: 0 warnings and errors, 1-3 info, 4+ debug (secrets are never logged); a bare -v prints the version")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "token cache directory (default $KCRED_CACHE_DIR, else "+DefaultCacheDir+"); KCRED_CACHE=off disables the cache")
	var ignoredBool bool
	var ignoredString string
	var ignoredDuration time.Duration
	fs.BoolVar(&ignoredBool, "logtostderr", true, "accepted for klog compatibility; ignored")
	fs.BoolVar(&ignoredBool, "alsologtostderr", false, "accepted for klog compatibility; ignored")
	fs.StringVar(&ignoredString, "vmodule", "", "accepted for klog compatibility; ignored")
	fs.StringVar(&ignoredString, "stderrthreshold", "", "accepted for klog compatibility; ignored")
	fs.DurationVar(&ignoredDuration, "log-flush-frequency", 0, "accepted for klog compatibility; ignored")
}

// klogCompat names the flags register accepts only for compatibility; help
// output leaves them out.
var klogCompat = map[string]bool{"logtostderr": true, "alsologtostderr": true, "vmodule": true, "stderrthreshold": true, "log-flush-frequency": true}

// resolvedCacheDir applies the precedence --cache-dir, KCRED_CACHE_DIR,
// default; "" means caching is off.
func (o *options) resolvedCacheDir() string {
	if v := os.Getenv("KCRED_CACHE"); v == "off" || v == "false" || v == "0" {
		return ""
	}
	if o.cacheDir != "" {
		return filepath.Clean(o.cacheDir)
	}
	if v := os.Getenv("KCRED_CACHE_DIR"); v != "" {
		return filepath.Clean(v)
	}
	return DefaultCacheDir
}

// joinVerbosity rewrites klog's space-separated "-v 3" / "--v 3" into
// "--v=3": -v is also a boolean (a bare -v prints the version), so the flag
// package would otherwise take "3" for a positional argument and print the
// version instead of answering the kubelet.
func joinVerbosity(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if (a == "-v" || a == "--v") && i+1 < len(args) && ascii.IsDigits(args[i+1]) {
			out = append(out, "--v="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// ParseInterspersed parses flags wherever they appear among the positional
// arguments and returns the positional ones (upstream plugins use cobra,
// which allows that: e.g. `azure.json --registry-mirror=...`); "--" ends
// flag parsing.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
