// Command kubeletjudge runs the real kubelet's credential provider plugin
// manager (k8s.io/kubernetes v1.37.2) over a config, a bin dir and images,
// and prints what it did in the JSON model of `kcred check --json`
// (kubelet.Report), so the simulator can be compared with the kubelet.
//
// What the kubelet does not expose is observed: execs by counting the lines
// the corpus's fake plugins append to --exec-log, errors and
// service-account skips from its log, matches with its own URLsMatchStr.
// It cannot know a credential's registry key or provider, nor the answer's
// cacheKeyType or cacheDuration; those fields stay empty.
//
// Usage: kubeletjudge --config PATH --bin-dir DIR --exec-log FILE
// [--service-account NS/NAME --sa-uid UID --sa-annotation K=V --sa-token FILE] IMAGE...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	"k8s.io/kubernetes/pkg/util/parsers"

	"github.com/kcred/kcred/internal/kubeletcorpus"
	"github.com/kcred/kcred/kubelet"
)

type annotations map[string]string

func (a annotations) String() string { return fmt.Sprint(map[string]string(a)) }
func (a annotations) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want KEY=VALUE")
	}
	a[k] = val
	return nil
}

func main() {
	var (
		configPath, binDir, execLog, saRef, saUID, saTokenFile string
		saAnnotations                                          = annotations{}
	)
	flag.StringVar(&configPath, "config", "", "credential provider config file or directory")
	flag.StringVar(&binDir, "bin-dir", "", "plugin bin dir")
	flag.StringVar(&execLog, "exec-log", "", "file the fake plugins append one line per exec to")
	flag.StringVar(&saRef, "service-account", "", "the pod's service account, NAMESPACE/NAME")
	flag.StringVar(&saUID, "sa-uid", "", "the service account's UID")
	flag.Var(saAnnotations, "sa-annotation", "a service account annotation KEY=VALUE (repeatable)")
	flag.StringVar(&saTokenFile, "sa-token", "", "file holding the token the TokenRequest returns (none: it fails)")
	flag.Parse()

	// Capture the plugin manager's log: provider errors and skips.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("v", "5")
	rec := &recorder{}
	klog.SetLogger(logr.New(rec))

	namespace, saName := "default", ""
	if saRef != "" {
		namespace, saName, _ = strings.Cut(saRef, "/")
	}
	token := ""
	if saTokenFile != "" {
		b, err := os.ReadFile(saTokenFile)
		if err != nil {
			fail(err)
		}
		token = strings.TrimSpace(string(b))
	}
	getSA := func(ns, name string) (*corev1.ServiceAccount, error) {
		if ns != namespace || name != saName {
			return nil, fmt.Errorf("serviceaccounts %q not found", name)
		}
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(saUID), Annotations: saAnnotations}}, nil
	}
	getToken := func(ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		if token == "" {
			return nil, errors.New("token request refused")
		}
		out := tr.DeepCopy()
		out.Status.Token = token
		return out, nil
	}

	rep := &kubelet.Report{Images: []*kubelet.ImageReport{}}
	if err := plugin.RegisterCredentialProviderPlugins(configPath, binDir, getToken, getSA); err != nil {
		rep.Error = err.Error()
		emit(rep)
		return
	}
	// Provider order and matchImages, to say which provider matched; the
	// verdict is the kubelet's URLsMatchStr.
	cfg, err := kubelet.LoadConfig(configPath)
	if err != nil {
		fail(err)
	}
	for _, image := range flag.Args() {
		ir := &kubelet.ImageReport{Image: image, Providers: []*kubelet.ProviderReport{}, Credentials: []kubelet.Credential{}}
		rep.Images = append(rep.Images, ir)
		repo, _, _, err := parsers.ParseImageName(image)
		if err != nil {
			ir.Error = err.Error()
			continue
		}
		ir.Normalized = repo
		before := execs(execLog)
		rec.reset()
		kr := plugin.NewExternalCredentialProviderDockerKeyring(namespace, "pod", "pod-uid", saName)
		creds, _ := kr.Lookup(repo)
		after := execs(execLog)
		events := rec.take()
		for _, p := range cfg.Providers {
			pr := &kubelet.ProviderReport{Name: p.Name}
			for _, mi := range p.MatchImages {
				if ok, _ := credentialprovider.URLsMatchStr(mi, repo); ok {
					pr.Matched = true
				}
			}
			pr.Executed = after[p.Name] > before[p.Name]
			for _, e := range events {
				if e.provider != p.Name {
					continue
				}
				switch e.msg {
				case "Failed to provide credentials for image":
					pr.Error = e.err
					pr.ErrorClass = kubelet.ErrorClass(e.err)
				case "Service account name is empty", "Failed to get service account data":
					pr.Skipped = e.msg
				}
			}
			pr.CacheHit = pr.Matched && !pr.Executed && pr.Error == "" && pr.Skipped == ""
			ir.Providers = append(ir.Providers, pr)
		}
		for _, c := range creds {
			ir.Credentials = append(ir.Credentials, kubelet.Credential{Username: c.Username, Password: c.Password})
		}
	}
	emit(rep)
}

func execs(path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	return kubeletcorpus.Execs(b)
}

func emit(rep *kubelet.Report) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kubeletjudge:", err)
	os.Exit(2)
}

// event is one log call of the plugin manager about a provider.
type event struct {
	msg, provider, err string
}

// recorder is a logr sink keeping the events that name a provider.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(err error, msg string, kv []any) {
	e := event{msg: msg}
	if err != nil {
		e.err = err.Error()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "provider" {
			e.provider = fmt.Sprint(kv[i+1])
		}
	}
	if e.provider == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) reset() { r.mu.Lock(); r.events = nil; r.mu.Unlock() }
func (r *recorder) take() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events
}

func (r *recorder) Init(logr.RuntimeInfo)                  {}
func (r *recorder) Enabled(int) bool                       { return true }
func (r *recorder) Info(_ int, msg string, kv ...any)      { r.add(nil, msg, kv) }
func (r *recorder) Error(err error, msg string, kv ...any) { r.add(err, msg, kv) }
func (r *recorder) WithValues(...any) logr.LogSink         { return r }
func (r *recorder) WithName(string) logr.LogSink           { return r }
