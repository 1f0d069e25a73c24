package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/kcred/kcred/internal/kubeapi"
	credv1 "github.com/kcred/kcred/internal/kubeapi/v1"
)

// DefaultTimeout is the kubelet's fixed exec timeout.
const DefaultTimeout = time.Minute

// Request is what the kubelet sends a plugin.
type Request struct {
	Image                     string
	ServiceAccountToken       string
	ServiceAccountAnnotations map[string]string
}

// Response is a validated CredentialProviderResponse.
type Response struct {
	CacheKeyType string
	// CacheDuration is nil when the plugin did not send one.
	CacheDuration *time.Duration
	Auth          map[string]AuthConfig
}

// AuthConfig is one username/password pair of a response.
type AuthConfig struct {
	Username string
	Password string
}

// Exchange is one plugin exec: what was sent and what came back.
type Exchange struct {
	// Stdin is the encoded request exactly as written to the plugin. It holds
	// the service-account token in service-account mode.
	Stdin []byte
	// Stdout and Stderr are what the plugin wrote, each at most MaxOutput
	// bytes.
	Stdout []byte
	Stderr []byte
	// Secrets are the password-looking values of the answer on stdout,
	// whether or not the kubelet would accept it, for redaction: a rejected
	// answer's password may still be echoed on stderr.
	Secrets []string
}

// secretsWith is every secret of the exchange: the answer's and the
// request's service-account token.
func (ex Exchange) secretsWith(req Request) []string {
	return append([]string{req.ServiceAccountToken}, ex.Secrets...)
}

// MaxOutput bounds what Exec keeps of a plugin's stdout and, separately, of
// its stderr. The kubelet buffers both without a bound; a plugin writing
// more is stopped and reported instead.
const MaxOutput = 1 << 20

// exitGrace is how long, after killing a plugin at the timeout, Exec waits
// for its stdout and stderr to close before concluding that a process it
// started holds them.
const exitGrace = 500 * time.Millisecond

// Exec runs provider p from binDir as the kubelet does: binDir/name with the
// args verbatim, environ followed by the config's env (the last duplicate
// wins, so the config does), the request encoded for the provider's
// apiVersion on stdin, killed after timeout. It then validates stdout in the
// kubelet's order. Errors carry the kubelet's messages.
func Exec(ctx context.Context, binDir string, p Provider, req Request, environ []string, timeout time.Duration) (*Response, Exchange, error) {
	var ex Exchange
	if !contains(apiVersions, p.APIVersion) {
		return nil, ex, fmt.Errorf("invalid apiVersion: %q", p.APIVersion)
	}
	ex.Stdin = encodeRequest(req, p.APIVersion)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(filepath.Join(binDir, p.Name), p.Args...)
	cmd.Stdin = bytes.NewReader(ex.Stdin)
	env := append([]string(nil), environ...)
	for _, e := range p.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	cmd.Env = env
	var runErr error
	ex.Stdout, ex.Stderr, runErr = runBounded(ctx, cmd)
	ex.Secrets = answerSecrets(ex.Stdout)
	if runErr != nil {
		return nil, ex, fmt.Errorf("error execing credential provider plugin %s for image %s: %w: %s", p.Name, req.Image, runErr, cut(ex.Stderr, ex.secretsWith(req)))
	}
	resp, err := DecodeResponse(ex.Stdout, p.APIVersion)
	return resp, ex, err
}

// runBounded runs cmd as the kubelet does, killed when ctx ends, but never
// waits past ctx's end and never keeps more than MaxOutput of either output.
// The kubelet reads a plugin's stdout and stderr until they close, with no
// WaitDelay: a process the plugin started that keeps them open hangs the
// kubelet's lookup after the plugin exits (its timeout then no longer
// applies) or after the timeout kills the plugin. runBounded reports that
// instead of hanging, and kills the plugin's whole process group.
func runBounded(ctx context.Context, cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	// Only a backstop for the stdin copy: the outputs are our own pipes.
	cmd.WaitDelay = time.Second
	newProcessGroup(cmd)
	err = cmd.Start()
	outW.Close()
	errW.Close()
	defer outR.Close()
	defer errR.Close()
	if err != nil {
		return nil, nil, err
	}

	outBuf := &boundedBuffer{name: "stdout"}
	errBuf := &boundedBuffer{name: "stderr"}
	overflow := make(chan error, 2)
	readsDone := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, r := range []struct {
			f   *os.File
			buf *boundedBuffer
		}{{outR, outBuf}, {errR, errBuf}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := io.Copy(r.buf, r.f); errors.Is(err, errOverflow) {
					overflow <- fmt.Errorf("%s exceeded %d bytes: kcred check stopped reading it and killed the plugin (the kubelet would buffer all of it in memory until the plugin exits or its timeout kills it)", r.buf.name, MaxOutput)
				}
			}()
		}
		wg.Wait()
		close(readsDone)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// stop kills every process of the plugin's group and abandons the
	// outputs.
	stop := func() {
		killProcessGroup(cmd)
		outR.Close()
		errR.Close()
		<-readsDone
	}
	result := func(err error) ([]byte, []byte, error) {
		return outBuf.Bytes(), errBuf.Bytes(), err
	}
	// done is the result once both outputs are closed, or one overflowed (a
	// reader that stops at the bound also ends).
	done := func(err error) ([]byte, []byte, error) {
		select {
		case oerr := <-overflow:
			stop()
			return result(oerr)
		default:
			return result(err)
		}
	}
	held := "a process it started still holds its stdout or stderr open: the kubelet would hang here, reading until that process closes them (its exec has no WaitDelay)"

	select {
	case err := <-overflow:
		stop()
		<-exited
		return result(err)
	case <-ctx.Done():
		// The kubelet kills the plugin itself, then reads its outputs to
		// their end.
		_ = cmd.Process.Kill()
		<-exited
		select {
		case <-readsDone:
			return done(ctx.Err())
		case <-time.After(exitGrace):
			stop()
			return result(fmt.Errorf("%w; the plugin was killed, but %s", ctx.Err(), held))
		}
	case waitErr := <-exited:
		select {
		case <-readsDone:
			// The group may still hold processes that closed their outputs;
			// the kubelet leaves them, and so do we.
			return done(waitErr)
		case err := <-overflow:
			stop()
			return result(err)
		case <-ctx.Done():
			stop()
			return result(fmt.Errorf("the plugin exited, but %s; its timeout no longer applies once the plugin has exited; kcred check stopped waiting at its timeout", held))
		}
	}
}

// MaxShownStderr bounds the stderr a report shows (in an exec error and as
// the provider's stderr); Exchange.Stderr keeps up to MaxOutput.
const MaxShownStderr = 4 << 10

// cut is stderr as a report shows it: the kubelet logs all of it, but a
// report that repeats a megabyte of it helps no one. The cut never splits one
// of secrets (which the report redacts later, whole), so no part of one
// survives redaction.
func cut(stderr []byte, secrets []string) string {
	if len(stderr) <= MaxShownStderr {
		return string(stderr)
	}
	n := MaxShownStderr
	for moved := true; moved; {
		moved = false
		for _, sec := range secrets {
			if sec == "" {
				continue
			}
			end := min(len(stderr), n+len(sec)-1)
			if i := bytes.LastIndex(stderr[:end], []byte(sec)); i >= 0 && i < n && i+len(sec) > n {
				n, moved = i, true
			}
		}
	}
	return fmt.Sprintf("%s… (%d more bytes of stderr not shown)", stderr[:n], len(stderr)-n)
}

// errOverflow stops a boundedBuffer's copy.
var errOverflow = errors.New("output limit reached")

// boundedBuffer keeps the first MaxOutput bytes written to it, then fails.
// It has only Write (no ReadFrom), so io.Copy cannot bypass the bound.
type boundedBuffer struct {
	name string
	buf  []byte
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := MaxOutput - len(b.buf); len(p) > room {
		b.buf = append(b.buf, p[:room]...)
		return room, errOverflow
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Bytes is what was kept.
func (b *boundedBuffer) Bytes() []byte { return b.buf }

// secretJSON and secretYAML match a JSON member or YAML line whose key
// looks like it holds a secret, capturing the value. Compiled on first use,
// not at package init: init runs on every exec of every role.
var (
	secretJSON = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)"[a-z0-9_.-]*(?:password|passwd|secret|token)[a-z0-9_.-]*"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	})
	secretYAML = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?im)^[\s-]*"?[a-z0-9_.-]*(?:password|passwd|secret|token)[a-z0-9_.-]*"?\s*:\s*['"]?([^\s'"]+)`)
	})
)

// answerSecrets is every password-looking value in a plugin's stdout, read
// as loosely as possible: the kubelet may reject the answer (wrong
// apiVersion, unknown field, not JSON at all) and the plugin may still have
// echoed its password elsewhere.
func answerSecrets(stdout []byte) []string {
	var out []string
	for _, m := range secretJSON().FindAllSubmatch(stdout, -1) {
		raw := string(m[1])
		out = append(out, raw)
		var s string
		if json.Unmarshal([]byte(`"`+raw+`"`), &s) == nil && s != raw {
			out = append(out, s)
		}
	}
	for _, m := range secretYAML().FindAllSubmatch(stdout, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// DecodeResponse validates a plugin's stdout in the kubelet's order: one JSON
// object with a GVK, the apiVersion equal to the configured one, then a strict
// decode (whose error the kubelet replaces by a fixed message).
func DecodeResponse(data []byte, apiVersion string) (*Response, error) {
	gvk, err := kubeapi.Interpret(data)
	if err != nil {
		return nil, fmt.Errorf("error reading GVK from response: %w", err)
	}
	if got := gvk.GroupVersion(); got != apiVersion {
		return nil, fmt.Errorf("apiVersion from credential plugin response did not match expected apiVersion:%s, actual apiVersion:%s", apiVersion, got)
	}
	// Every version's response has v1's fields, JSON names and types, so v1's
	// type accepts and refuses what each would; the kubelet's message for a
	// refusal names neither.
	obj, _, err := kubeapi.Decode(data, func(gvk kubeapi.GroupVersionKind) (any, error) {
		if gvk.Kind != "CredentialProviderResponse" {
			return nil, errors.New("not a response")
		}
		return &credv1.CredentialProviderResponse{}, nil
	})
	if err != nil {
		return nil, errors.New("error decoding credential provider plugin response from stdout")
	}
	r := obj.(*credv1.CredentialProviderResponse)
	out := &Response{CacheKeyType: string(r.CacheKeyType), Auth: map[string]AuthConfig{}}
	if r.CacheDuration != nil {
		d := r.CacheDuration.Duration
		out.CacheDuration = &d
	}
	for k, v := range r.Auth {
		out.Auth[k] = AuthConfig(v)
	}
	return out, nil
}
