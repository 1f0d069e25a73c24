package plugin

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/kcred/kcred/internal/httpbound"
	"github.com/kcred/kcred/tokencache"
)

// FetchTimeout bounds one cloud fetch of a provider (identity and token,
// retries included). With the token cache's lock wait before it, a clear
// error still arrives inside Deadline.
const FetchTimeout = 30 * time.Second

// Deadline bounds one exec. The kubelet kills a plugin after one minute with
// no message of its own; stopping first lets kcred say what it was waiting for.
const Deadline = 50 * time.Second

// Main runs role as a kubelet exec credential provider. args are the
// command-line arguments after the program name. It returns the process exit
// code: 0 with the response on stdout, or 1 with one line on stderr and
// nothing on stdout.
func Main(role Role, version string, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var secrets []string // what this exec knows that must never be printed
	fail := func(err error) int {
		fmt.Fprintln(stderr, errorLine(role.Name, err, secrets...))
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			code = fail(Fail("internal error", fmt.Errorf("%v", r), "please report it"))
		}
	}()

	var opts options
	fs := flag.NewFlagSet(role.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts.register(fs)
	build := role.Setup(fs)
	// Every role takes --registry-mirror; a role that defines its own (ACR,
	// whose mirrors are validated against its cloud) keeps it.
	if fs.Lookup(MirrorFlagName) == nil {
		fs.Var(MirrorFlag{&opts.mirrors}, MirrorFlagName, MirrorUsage)
	}
	positional, err := ParseInterspersed(fs, joinVerbosity(args))
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout, role, fs)
		return 0
	}
	if err != nil {
		return fail(Fail("parse arguments", err, "see --help"))
	}
	if opts.showVersion {
		fmt.Fprintf(stdout, "%s (kcred) %s\n", role.Name, version)
		return 0
	}

	log := NewLogger(stderr, opts.verbosity).With("role", role.Name)
	cache := openCache(opts.resolvedCacheDir(), log)
	provider, err := build(Env{Role: role.Name, Cache: cache, Log: log}, positional)
	if err != nil {
		return fail(err)
	}
	provider = Mirrored(provider, opts.mirrors)

	req, err := ReadRequest(stdin)
	if err != nil {
		return fail(err)
	}
	secrets = append(secrets, req.ServiceAccountToken)
	log.Info("credentials requested", "image", Bound(req.Image), "apiVersion", req.APIVersion, "serviceAccountMode", req.ServiceAccountToken != "")

	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	httpbound.InstallDefault()
	defer muteChildStderr()()
	ans, err := provider.Credentials(ctx, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = Fail("", err, fmt.Sprintf("stopped after %s, before the kubelet's 1-minute kill; check that the cloud endpoints are reachable from the node", Deadline))
		}
		return fail(err)
	}
	out, err := EncodeResponse(req, ans, time.Now())
	if err != nil {
		return fail(err)
	}
	log.Info("credentials returned", "image", Bound(req.Image), "registries", sortedKeys(ans.Auth), "expiresAt", ans.ExpiresAt)
	if _, err := stdout.Write(out); err != nil {
		return fail(fmt.Errorf("write response to stdout: %w", err))
	}
	return 0
}

// muteChildStderr points os.Stderr at the null device until the returned
// function runs. Child processes an SDK starts (an AWS credential_process)
// inherit os.Stderr; what they print may hold secrets and would reach the
// kubelet's log raw. kcred's own output goes to the stderr Main was given.
func muteChildStderr() (restore func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	saved := os.Stderr
	os.Stderr = null
	return func() {
		os.Stderr = saved
		null.Close()
	}
}

// openCache opens the token cache, or runs without one: an unusable cache
// directory must never fail a pull.
func openCache(dir string, log *slog.Logger) *tokencache.Cache {
	if dir == "" {
		log.Debug("token cache off")
		return nil
	}
	return tokencache.Open(dir, log)
}

// NewLogger returns a logger writing text to w at the given klog-style
// verbosity: 0 warnings and errors, 1-3 info, 4 and above debug.
func NewLogger(w io.Writer, verbosity int) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case verbosity >= 4:
		level = slog.LevelDebug
	case verbosity >= 1:
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func usage(w io.Writer, role Role, fs *flag.FlagSet) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %s\n\nUsage: %s [flags]", role.Name, role.Summary, role.Name)
	if role.Args != "" {
		fmt.Fprintf(&b, " %s", role.Args)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "A kubelet exec credential provider: reads a CredentialProviderRequest (JSON, any of\n%s, %s, %s)\non stdin and writes a CredentialProviderResponse in the same apiVersion on stdout.\n\nFlags:\n", APIVersionV1, APIVersionV1beta1, APIVersionV1alpha1)
	fs.VisitAll(func(f *flag.Flag) {
		if klogCompat[f.Name] {
			return
		}
		fmt.Fprintf(&b, "  --%s\n      %s\n", f.Name, f.Usage)
	})
	fmt.Fprintf(&b, "\nAlso accepted and ignored, for klog compatibility: --%s.\n", strings.Join(sortedKeys(klogCompat), ", --"))
	_, _ = w.Write(b.Bytes())
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// version is stamped at link time by `make build` and scripts/release
// (-ldflags -X github.com/kcred/kcred/plugin.version=$(git describe)): a
// binary built from a checkout has no module version in its build info.
var version string

// Version returns the version stamped at link time, else the module version
// the binary was built from (go install kcred@vX), else "devel".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
