package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/kubelet"
	"github.com/kcred/kcred/plugin"
)

// maxTokenFile bounds --sa-token: a service-account token is a few KiB.
const maxTokenFile = 1 << 20

const checkUsage = "usage: kcred check --config PATH --bin-dir DIR [--json] [--show-secrets] [--fail-on-error] [--timeout D] [--service-account NS/NAME [--sa-uid UID] [--sa-annotation K=V]... [--sa-token FILE]] [IMAGE...]"

// Exit codes of kcred check.
const (
	checkOK          = 0
	checkInvalid     = 1 // the kubelet would refuse to start
	checkUsageError  = 2
	checkProviderErr = 3 // --fail-on-error and a provider failed or an image is invalid
)

// checkFlagList is a repeatable flag.
type checkFlagList []string

func (s *checkFlagList) String() string     { return strings.Join(*s, ",") }
func (s *checkFlagList) Set(v string) error { *s = append(*s, v); return nil }

// runCheck implements `kcred check`: a kubelet start-up with --config and
// --bin-dir, then, for each IMAGE in order with one shared cache, what the
// kubelet's plugin keyring would do. Exit 0 when it ran, 1 when the kubelet
// would refuse to start, 2 on usage errors, 3 with --fail-on-error when a
// provider failed or an image was invalid.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kcred check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		configPath  = fs.String("config", "", "the kubelet's --image-credential-provider-config: a file or (1.34+) a directory")
		binDir      = fs.String("bin-dir", "", "the kubelet's --image-credential-provider-bin-dir")
		asJSON      = fs.Bool("json", false, "print one JSON document (schema in docs/check.md)")
		showSecrets = fs.Bool("show-secrets", false, "print passwords and the service-account token instead of <redacted>")
		failOnError = fs.Bool("fail-on-error", false, "exit 3 when a provider fails or an image is invalid")
		timeout     = fs.Duration("timeout", kubelet.DefaultTimeout, "plugin exec timeout (the kubelet's is fixed at 1m)")
		saRef       = fs.String("service-account", "", "simulate a pod running as service account NAMESPACE/NAME (KEP-4412 tokenAttributes)")
		saUID       = fs.String("sa-uid", "", "the service account's UID")
		saToken     = fs.String("sa-token", "", "file holding the token the kubelet would be issued for the provider's audience")
		saAnnots    checkFlagList
	)
	fs.Var(&saAnnots, "sa-annotation", "a service-account annotation KEY=VALUE (repeatable)")

	images, err := plugin.ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, checkUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return checkOK
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "kcred check: %s (see kcred check --help)\n", fmt.Sprintf(format, a...))
		return checkUsageError
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if *configPath == "" || *binDir == "" {
		return usageErr("--config and --bin-dir are required (the kubelet's two credential provider flags)")
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	var pod kubelet.Pod
	token := ""
	if *saRef == "" {
		if *saUID != "" || *saToken != "" || len(saAnnots) > 0 {
			return usageErr("--sa-uid, --sa-annotation and --sa-token need --service-account NAMESPACE/NAME")
		}
	} else {
		ns, name, ok := strings.Cut(*saRef, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return usageErr("--service-account %q: want NAMESPACE/NAME", *saRef)
		}
		sa := &kubelet.ServiceAccount{Name: name, UID: *saUID, Annotations: map[string]string{}}
		for _, a := range saAnnots {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return usageErr("--sa-annotation %q: want KEY=VALUE", a)
			}
			sa.Annotations[k] = v
		}
		if *saToken != "" {
			b, err := safefile.ReadFile(*saToken, maxTokenFile)
			if err != nil {
				return usageErr("read --sa-token: %v (give a file holding the token)", err)
			}
			token = strings.TrimSpace(string(b))
			sa.Token = token
		}
		pod = kubelet.Pod{Namespace: ns, Name: "kcred-check", ServiceAccount: sa}
	}

	rep := kubelet.Check(context.Background(), kubelet.CheckOptions{
		Config: *configPath, BinDir: *binDir, Images: images, Pod: pod, Timeout: *timeout,
	})
	if !*showSecrets {
		rep.Redact(token)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "kcred check: write output: %v\n", err)
			return checkUsageError
		}
	} else {
		printReport(stdout, *configPath, *binDir, rep, time.Now())
	}
	switch {
	case rep.Error != "":
		return checkInvalid
	case *failOnError && anyFailed(rep):
		return checkProviderErr
	}
	return checkOK
}

func anyFailed(rep *kubelet.Report) bool {
	for _, img := range rep.Images {
		if img.Error != "" {
			return true
		}
		for _, p := range img.Providers {
			if p.Error != "" {
				return true
			}
		}
	}
	return false
}
