// Package install places kcred on a node: the binary in the kubelet's
// --image-credential-provider-bin-dir, one relative symlink per provider
// name (on Windows a copy, NAME.exe), a check that every installed name
// answers as its role, and optionally a CredentialProviderConfig, validated
// with the kubelet's start-up rules before it is written. Every change is atomic (temporary
// file or link in the same directory, then rename), unchanged content is
// left alone, and nothing ever restarts or signals the kubelet.
package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kcred/kcred/internal/atomicfile"
	"github.com/kcred/kcred/internal/safefile"
	"github.com/kcred/kcred/kubelet"
)

// BinaryName is the file every link points at, in the bin dir.
const BinaryName = "kcred"

// PreviousSuffix is appended to a replaced config or provider binary's name
// to keep its previous content for a rollback. The kubelet ignores such
// files: it execs exact provider names and, in a config directory, reads
// only *.json, *.yaml and *.yml.
const PreviousSuffix = ".kcred-previous"

// tempPrefix starts every temporary file, link and directory this package
// creates: hidden, and never ending in .json/.yaml/.yml, so a kubelet that
// starts meanwhile never reads one as config.
const tempPrefix = ".kcred-tmp-"

// Link is one name to create in the bin dir and the role it must answer as.
type Link struct {
	// Name is the file name in the bin dir (a provider name or alias).
	Name string
	// Role is the canonical role name its --version must print.
	Role string
}

// Options are the inputs of Run.
type Options struct {
	// Self is the executable to install (resolved, not a link).
	Self string
	// BinDir is the kubelet's --image-credential-provider-bin-dir (as seen
	// by this process); it must exist.
	BinDir string
	// Links are the names to link to BinaryName.
	Links []Link
	// Version is what `NAME --version` must print after "ROLE (kcred) ";
	// empty accepts any version.
	Version string
	// Config is a CredentialProviderConfig file to place at ConfigDest;
	// both empty to leave the config alone.
	Config, ConfigDest string
	// Verify checks that the file at path answers as l.Role, giving up when
	// ctx ends; nil runs `path --version` (VersionCheck).
	Verify func(ctx context.Context, path string, l Link) error
	// Windows installs for a Windows node: every file is named NAME.exe
	// (the kubelet finds providers with exec.LookPath, which wants an
	// executable extension there) and each provider name is a copy of the
	// binary, not a symlink (creating one needs a privilege an installer
	// cannot count on).
	Windows bool
}

// fileName is the name in the bin dir of the binary or of a provider name.
func (o Options) fileName(name string) string {
	if o.Windows {
		return name + ".exe"
	}
	return name
}

// Run installs as o says, reporting one line per action to say. On error
// nothing it created temporarily is left behind; the changes already made
// are complete (each is atomic). A config the kubelet would refuse is
// refused before anything is changed. When ctx ends (SIGTERM), Run stops
// within the step it is in, removes that step's temporary files and returns
// ctx's error: every reported change is complete, nothing else was changed.
// Temporary files a killed run left behind are removed first.
//
// Run reads and replaces only regular files (and, at the provider names,
// symlinks): a FIFO, a device or a directory where it would read or write,
// or a symlink from the binary's name to one, is refused, never read.
func Run(ctx context.Context, o Options, say func(string)) error {
	if o.Verify == nil {
		version := o.Version
		o.Verify = func(ctx context.Context, path string, l Link) error { return VersionCheck(ctx, path, l.Role, version) }
	}
	if err := requireDir(o.BinDir, "--bin-dir"); err != nil {
		return err
	}
	if len(o.Links) == 0 {
		return errors.New("no provider names to link")
	}
	sweepTemporaries(o.BinDir, say)
	if o.ConfigDest != "" {
		sweepTemporaries(filepath.Dir(o.ConfigDest), say)
	}
	if err := precheck(ctx, o); err != nil {
		return interrupted(ctx, err)
	}

	// The config first: a config the kubelet would refuse stops everything.
	var cfg *stagedConfig
	if o.Config != "" || o.ConfigDest != "" {
		var err error
		cfg, err = stageConfig(o.Config, o.ConfigDest)
		if err != nil {
			return err
		}
		defer cfg.cleanup()
		installing := map[string]bool{}
		for _, l := range o.Links {
			installing[l.Name] = true
		}
		if err := cfg.preflight(o.BinDir, installing); err != nil {
			return err
		}
		say(fmt.Sprintf("config validated %s: the kubelet would start with %s", o.Config, cfg.describe()))
	}

	// On Windows each name is a copy of the binary: a copy of the binary
	// being replaced is kcred's own, replaced without keeping it.
	var previousSelf string
	if o.Windows {
		previousSelf, _ = fileSum(ctx, filepath.Join(o.BinDir, o.fileName(BinaryName)))
	}
	if err := installBinary(ctx, o, say); err != nil {
		return err
	}
	for _, l := range o.Links {
		var err error
		if o.Windows {
			err = copyBinary(ctx, o.BinDir, o.fileName(l.Name), o.fileName(BinaryName), previousSelf, say)
		} else {
			err = link(ctx, o.BinDir, l.Name, say)
		}
		if err != nil {
			return err
		}
	}
	for _, l := range o.Links {
		path := filepath.Join(o.BinDir, o.fileName(l.Name))
		if err := o.Verify(ctx, path, l); err != nil {
			return interrupted(ctx, fmt.Errorf("verify %s at %s: %v", l.Role, path, err))
		}
		say(fmt.Sprintf("verified %s: answers as %s (kcred) %s", path, l.Role, o.Version))
	}

	configChanged := false
	if cfg != nil {
		// Now with the binaries in place: the kubelet's start-up, exactly.
		c, err := kubelet.Startup(cfg.loadPath, o.BinDir)
		if err != nil {
			return fmt.Errorf("config %s refused, not written: the kubelet would not start: %s", o.Config, cfg.unstage(err.Error()))
		}
		for _, w := range kubelet.Warnings(c, o.BinDir) {
			say("warning: " + cfg.unstage(w))
		}
		if err := ctx.Err(); err != nil {
			return interrupted(ctx, err)
		}
		if configChanged, err = cfg.write(ctx, say); err != nil {
			return err
		}
	}
	say("binaries take effect at the kubelet's next exec of each provider; kcred never restarts or signals the kubelet")
	if configChanged {
		say("the config takes effect when the kubelet next restarts (the kubelet reads it only at start-up)")
	}
	return nil
}

// VersionCheck runs `path --version` and wants "ROLE (kcred) VERSION" (any
// version when version is empty), within 30 seconds or until ctx ends.
func VersionCheck(ctx context.Context, path, role, version string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	got := strings.TrimSpace(stdout.String())
	if err != nil {
		msg := firstLine(stderr.String())
		if msg == "" {
			msg = firstLine(got)
		}
		if msg != "" {
			return fmt.Errorf("--version: %v: %s", err, msg)
		}
		return fmt.Errorf("--version: %v", err)
	}
	want := role + " (kcred) " + version
	if version == "" {
		if strings.HasPrefix(got, want) && !strings.Contains(got, "\n") {
			return nil
		}
		return fmt.Errorf("--version printed %q, want %q followed by a version", got, want)
	}
	if got != want {
		return fmt.Errorf("--version printed %q, want %q", got, want)
	}
	return nil
}

// installBinary puts Self at BinDir/kcred (kcred.exe on Windows), unless
// identical content is there.
func installBinary(ctx context.Context, o Options, say func(string)) error {
	dst := filepath.Join(o.BinDir, o.fileName(BinaryName))
	selfSum, err := fileSum(ctx, o.Self)
	if err != nil {
		return interrupted(ctx, fmt.Errorf("read own executable: %v", err))
	}
	sum, err := fileSum(ctx, dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return interrupted(ctx, refuse(dst, err))
	}
	if sum == selfSum {
		say(fmt.Sprintf("unchanged %s (sha256:%.12s…)", dst, selfSum))
		return nil
	}
	src, err := safefile.Open(o.Self)
	if err != nil {
		return fmt.Errorf("read own executable: %v", err)
	}
	defer src.Close()
	tmp, err := atomicfile.TempFile(o.BinDir, tempPrefix, ctxReader{ctx, src}, 0o755)
	if err != nil {
		return interrupted(ctx, fmt.Errorf("write %s: %v", dst, err))
	}
	defer os.Remove(tmp) // a no-op once renamed
	// Run the new binary under every name before it replaces anything, from
	// the same file system (a noexec mount or a binary this node cannot run
	// fails here, with the node unchanged).
	if err := preVerify(ctx, o, tmp); err != nil {
		return interrupted(ctx, err)
	}
	if err := ctx.Err(); err != nil {
		return interrupted(ctx, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("install %s: %v", dst, err)
	}
	if err := atomicfile.SyncDir(o.BinDir); err != nil {
		return fmt.Errorf("install %s: %v", dst, err)
	}
	say(fmt.Sprintf("installed %s (sha256:%.12s…)", dst, selfSum))
	return nil
}

// preVerify runs the verification on bin through links in a temporary
// directory inside the bin dir.
func preVerify(ctx context.Context, o Options, bin string) error {
	dir, err := os.MkdirTemp(o.BinDir, tempPrefix+"verify-")
	if err != nil {
		return fmt.Errorf("verify the new binary: %v", err)
	}
	defer os.RemoveAll(dir)
	abs, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("verify the new binary: %v", err)
	}
	for _, l := range o.Links {
		path := filepath.Join(dir, o.fileName(l.Name))
		if o.Windows {
			err = copyFile(ctx, abs, path)
		} else {
			err = os.Symlink(abs, path)
		}
		if err != nil {
			return fmt.Errorf("verify the new binary: %v", err)
		}
		if err := o.Verify(ctx, path, l); err != nil {
			return fmt.Errorf("verify %s: the new binary, written to %s, fails: %v (nothing replaced)", l.Role, filepath.Join(o.BinDir, o.fileName(BinaryName)), err)
		}
	}
	return nil
}

// link makes dir/name a symlink to BinaryName. A previous file or link of
// that name is kept as name+PreviousSuffix, then replaced by a rename of a
// new link: the name always resolves to one or the other.
func link(ctx context.Context, dir, name string, say func(string)) error {
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if err := ctx.Err(); err != nil {
		return interrupted(ctx, err)
	}
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		if target, err := os.Readlink(path); err == nil && target == BinaryName {
			say(fmt.Sprintf("unchanged %s -> %s", path, BinaryName))
			return nil
		}
	case err == nil && fi.IsDir():
		return fmt.Errorf("link %s: a directory of that name is in the way", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("link %s: %v", path, err)
	}
	note := ""
	if err == nil {
		backup, err := keepPrevious(ctx, dir, name, fi)
		if err != nil {
			return fmt.Errorf("link %s: keep the previous %s: %v", path, name, err)
		}
		note = fmt.Sprintf(" (replaced %s, kept as %s)", kindOf(fi), backup)
	}
	tmp, err := tempSymlink(dir, BinaryName)
	if err != nil {
		return fmt.Errorf("link %s: %v", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link %s: %v", path, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("link %s: %v", path, err)
	}
	say(fmt.Sprintf("linked %s -> %s%s", path, BinaryName, note))
	return nil
}

// copyBinary makes dir/name a copy of dir/binary, the Windows way of
// link: a previous file of that name that is neither such a copy nor a copy
// of the binary's previous content (previousSelf, a SHA-256) is kept as
// name+PreviousSuffix, then replaced by the rename of a complete temporary
// copy. (Windows refuses to replace an executable while it runs:
// a kubelet exec of that very name at that moment fails the install, and
// the DaemonSet's restart retries it.)
func copyBinary(ctx context.Context, dir, name, binary, previousSelf string, say func(string)) error {
	path, src := filepath.Join(dir, name), filepath.Join(dir, binary)
	fi, err := os.Lstat(path)
	exists := err == nil
	switch {
	case exists && fi.IsDir():
		return fmt.Errorf("copy to %s: a directory of that name is in the way", path)
	case !exists && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("copy to %s: %v", path, err)
	}
	want, err := fileSum(ctx, src)
	if err != nil {
		return interrupted(ctx, fmt.Errorf("copy to %s: %v", path, err))
	}
	note := ""
	if exists {
		got, err := fileSum(ctx, path)
		if err != nil && fi.Mode()&fs.ModeSymlink == 0 {
			return interrupted(ctx, refuse(path, err))
		}
		switch {
		case got == want && fi.Mode().IsRegular():
			say(fmt.Sprintf("unchanged %s (a copy of %s)", path, binary))
			return nil
		case got != "" && got == previousSelf && fi.Mode().IsRegular():
			note = " (replaced the previous kcred)"
		default:
			backup, err := keepPrevious(ctx, dir, name, fi)
			if err != nil {
				return fmt.Errorf("copy to %s: keep the previous %s: %v", path, name, err)
			}
			note = fmt.Sprintf(" (replaced %s, kept as %s)", kindOf(fi), backup)
		}
	}
	if err := copyFile(ctx, src, path); err != nil {
		return interrupted(ctx, fmt.Errorf("copy to %s: %v", path, err))
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("copy to %s: %v", path, err)
	}
	say(fmt.Sprintf("copied %s to %s%s", binary, path, note))
	return nil
}

// copyFile writes a copy of src (mode 0755) at dst through a temporary file
// in dst's directory and a rename.
func copyFile(ctx context.Context, src, dst string) error {
	f, err := safefile.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	tmp, err := atomicfile.TempFile(filepath.Dir(dst), tempPrefix, ctxReader{ctx, f}, 0o755)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// keepPrevious saves dir/name (described by fi) as name+PreviousSuffix,
// atomically: a hard link for a file (a copy where hard links fail), the
// same target for a symlink.
func keepPrevious(ctx context.Context, dir, name string, fi fs.FileInfo) (string, error) {
	path := filepath.Join(dir, name)
	backup := name + PreviousSuffix
	var tmp string
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if tmp, err = tempSymlink(dir, target); err != nil {
			return "", err
		}
	} else {
		var err error
		tmp = filepath.Join(dir, tempPrefix+safefile.RandomSuffix())
		if err = os.Link(path, tmp); err != nil {
			f, err := safefile.Open(path)
			if err != nil {
				return "", err
			}
			defer f.Close()
			if tmp, err = atomicfile.TempFile(dir, tempPrefix, ctxReader{ctx, f}, fi.Mode().Perm()); err != nil {
				return "", err
			}
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, backup)); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return backup, nil
}

func kindOf(fi fs.FileInfo) string {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return "a symlink"
	}
	return "a file"
}

// stagedConfig is the config as the kubelet would load it after the write:
// a temporary directory beside the destination holding the new file under
// the destination's name and, when the destination's directory is a drop-in
// directory, copies of its other config files.
type stagedConfig struct {
	src, dest string
	data      []byte
	stage     string // the temporary directory
	loadPath  string // what LoadConfig reads: stage or stage/base(dest)
	siblings  []string
}

// stageConfig reads src and builds the view. The destination's directory is
// taken as a drop-in directory (kubelet ≥ 1.34) when another *.json, *.yaml
// or *.yml file there is a CredentialProviderConfig; otherwise dest is
// validated as a file on its own (a directory such as /etc/kubernetes also
// holds other kinds of config, which the kubelet never reads as this one).
func stageConfig(src, dest string) (*stagedConfig, error) {
	if src == "" || dest == "" {
		return nil, errors.New("--config and --config-dest go together")
	}
	data, err := safefile.ReadFile(src, MaxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("read --config: %v", err)
	}
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("--config-dest %s is a directory: give the file to write in it, e.g. %s", dest, filepath.Join(dest, "kcred.yaml"))
	} else if err == nil && !fi.Mode().IsRegular() {
		return nil, refuse(dest, notRegular(fi.Mode()))
	}
	dir := filepath.Dir(dest)
	if err := requireDir(dir, "the directory of --config-dest"); err != nil {
		return nil, err
	}
	base := filepath.Base(dest)
	var siblings []string
	dropIn := false
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == base || !isConfigName(e.Name()) {
			continue
		}
		siblings = append(siblings, e.Name())
		b, err := safefile.ReadFile(filepath.Join(dir, e.Name()), MaxConfigSize)
		if errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge) {
			return nil, refuse(filepath.Join(dir, e.Name()), err)
		}
		if err == nil && kindOfDoc(b) == "CredentialProviderConfig" {
			dropIn = true
		}
	}
	if !dropIn {
		siblings = nil
	} else if !isConfigName(base) {
		return nil, fmt.Errorf("--config-dest %s: %s is a drop-in directory (it holds CredentialProviderConfig files), where the kubelet reads only *.json, *.yaml and *.yml: name the file accordingly", dest, dir)
	}

	stage, err := os.MkdirTemp(dir, tempPrefix+"config-")
	if err != nil {
		return nil, fmt.Errorf("stage the config for validation: %v", err)
	}
	s := &stagedConfig{src: src, dest: dest, data: data, stage: stage, siblings: siblings}
	fail := func(err error) (*stagedConfig, error) {
		s.cleanup()
		return nil, fmt.Errorf("stage the config for validation: %v", err)
	}
	if err := os.WriteFile(filepath.Join(stage, base), data, 0o600); err != nil {
		return fail(err)
	}
	for _, name := range siblings {
		b, err := safefile.ReadFile(filepath.Join(dir, name), MaxConfigSize)
		if err != nil {
			return fail(err)
		}
		if err := os.WriteFile(filepath.Join(stage, name), b, 0o600); err != nil {
			return fail(err)
		}
	}
	s.loadPath = filepath.Join(stage, base)
	if dropIn {
		s.loadPath = stage
	}
	return s, nil
}

func (s *stagedConfig) cleanup() { os.RemoveAll(s.stage) }

// unstage rewrites paths inside the staging directory as the real ones.
func (s *stagedConfig) unstage(msg string) string {
	return strings.ReplaceAll(msg, s.stage, filepath.Dir(s.dest))
}

func (s *stagedConfig) describe() string {
	if len(s.siblings) == 0 {
		return s.dest + " as its --image-credential-provider-config"
	}
	return fmt.Sprintf("the drop-in directory %s (%s and %s) as its --image-credential-provider-config", filepath.Dir(s.dest), filepath.Base(s.dest), strings.Join(s.siblings, ", "))
}

// preflight applies the kubelet's start-up rules before anything is
// changed: load and validate, and every provider's binary present in binDir
// unless it is one of the names about to be installed.
func (s *stagedConfig) preflight(binDir string, installing map[string]bool) error {
	refused := func(err error) error {
		return fmt.Errorf("config %s refused, nothing changed: the kubelet would not start: %s", s.src, s.unstage(err.Error()))
	}
	cfg, err := kubelet.LoadConfig(s.loadPath)
	if err != nil {
		return refused(err)
	}
	if err := kubelet.Validate(cfg); err != nil {
		return refused(err)
	}
	rest := *cfg
	rest.Providers = nil
	for _, p := range cfg.Providers {
		if !installing[p.Name] {
			rest.Providers = append(rest.Providers, p)
		}
	}
	if err := kubelet.CheckBinaries(&rest, binDir); err != nil {
		return refused(err)
	}
	return nil
}

// write puts the staged content at dest, keeping the previous content as
// dest+PreviousSuffix. It reports whether dest changed.
func (s *stagedConfig) write(ctx context.Context, say func(string)) (bool, error) {
	dir, base := filepath.Dir(s.dest), filepath.Base(s.dest)
	old, err := safefile.ReadFile(s.dest, MaxConfigSize)
	switch {
	case err == nil && bytes.Equal(old, s.data):
		say(fmt.Sprintf("config unchanged %s", s.dest))
		return false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, refuse(s.dest, err)
	}
	mode := fs.FileMode(0o644)
	note := " (new file)"
	if err == nil {
		if fi, err := os.Stat(s.dest); err == nil {
			mode = fi.Mode().Perm()
		}
		if err := atomicfile.Write(dir, base+PreviousSuffix, tempPrefix, old, mode); err != nil {
			return false, fmt.Errorf("keep the previous config as %s: %v", s.dest+PreviousSuffix, err)
		}
		note = fmt.Sprintf(" (previous kept as %s)", s.dest+PreviousSuffix)
	}
	if err := atomicfile.Write(dir, base, tempPrefix, s.data, mode); err != nil {
		return false, fmt.Errorf("write %s: %v", s.dest, err)
	}
	say(fmt.Sprintf("config written %s%s", s.dest, note))
	return true, nil
}

// kindOfDoc is the kind of a YAML or JSON document, "" when unreadable.
func kindOfDoc(b []byte) string {
	var head struct {
		Kind string `json:"kind"`
	}
	if yaml.Unmarshal(b, &head) != nil {
		return ""
	}
	return head.Kind
}

// isConfigName says whether the kubelet reads a file of this name in a
// config directory.
func isConfigName(name string) bool {
	switch filepath.Ext(name) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

func requireDir(dir, what string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s does not exist", what, dir)
		}
		return fmt.Errorf("%s: %v", what, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %s is not a directory", what, dir)
	}
	return nil
}

// tempSymlink creates a new symlink to target with a temporary name in dir.
func tempSymlink(dir, target string) (string, error) {
	for i := 0; ; i++ {
		path := filepath.Join(dir, tempPrefix+safefile.RandomSuffix())
		err := os.Symlink(target, path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, fs.ErrExist) || i == 9 {
			return "", err
		}
	}
}

// fileSum is the hex SHA-256 of the regular file at path (symlinks
// followed), read until ctx ends.
func fileSum(ctx context.Context, path string) (string, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MaxConfigSize bounds every config file read: a CredentialProviderConfig
// is a few KiB.
const MaxConfigSize = 1 << 20

// refuse is the error for a path install will not read or replace.
func refuse(path string, err error) error {
	if errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge) {
		return fmt.Errorf("refusing %s: %v (kcred install reads and replaces only regular files of sane size; move it away, then run kcred install again)", path, unwrapPath(err))
	}
	return fmt.Errorf("%s: %v", path, unwrapPath(err))
}

// notRegular is the refusal of a file of the given mode.
func notRegular(mode fs.FileMode) error {
	return fmt.Errorf("is %s, %w", safefile.Describe(mode), safefile.ErrNotRegular)
}

// precheck refuses, before anything is changed, a name in the bin dir that
// install would read or replace and that is not a regular file: at the
// binary's name, whatever a symlink there leads to; at a provider name, the
// entry itself (a symlink there is replaced, never read).
func precheck(ctx context.Context, o Options) error {
	bin := filepath.Join(o.BinDir, o.fileName(BinaryName))
	if f, err := safefile.Open(bin); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return refuse(bin, err)
	}
	for _, l := range o.Links {
		path := filepath.Join(o.BinDir, o.fileName(l.Name))
		fi, err := os.Lstat(path)
		if err == nil && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 && !fi.IsDir() {
			return refuse(path, notRegular(fi.Mode()))
		}
	}
	return ctx.Err()
}

// unwrapPath drops the "open PATH: " of an fs.PathError, whose path the
// message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// interrupted says, when ctx has ended, that the install stopped on a signal
// rather than err's own failure.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("interrupted: stopped before completing this step and removed its temporary files; the changes reported above are complete, nothing else was changed (%w)", ctx.Err())
}

// ctxReader stops a long read (a large binary being hashed or copied) when
// ctx ends, so SIGTERM takes effect within one read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// sweepTemporaries removes what a killed run left in dir: every name
// starting with tempPrefix (files, links and the verification and staging
// directories; a symlink is removed, never followed). Only one install runs
// in a directory at a time (one DaemonSet pod per node).
func sweepTemporaries(dir string, say func(string)) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(path); err == nil {
			say(fmt.Sprintf("removed %s, left by an interrupted run", path))
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
