package acr

import (
	"fmt"
	"strings"

	"github.com/kcred/kcred/plugin"
)

// Mirror maps images under Source to the ACR Target whose credential the
// container runtime presents when it pulls them through a mirror (e.g. a
// containerd hosts.toml entry pointing the source at the ACR). The syntax
// and matching are the runtime's, shared by every role; ACR adds that the
// target must be a login server of the configured cloud.
type Mirror plugin.Mirror

// mirrorFlag is the role's own --registry-mirror (and upstream's -r): the
// runtime's syntax, with every target checked to be an ACR login server.
type mirrorFlag struct{ mirrors *[]Mirror }

func (f mirrorFlag) String() string {
	if f.mirrors == nil {
		return ""
	}
	return plugin.MirrorFlag{Mirrors: shared(*f.mirrors)}.String()
}

func (f mirrorFlag) Set(s string) error {
	ms, err := parseMirrors(s)
	if err != nil {
		return err
	}
	*f.mirrors = append(*f.mirrors, ms...)
	return nil
}

// parseMirrors parses a comma-separated list of SRC:DST mappings
// (plugin.ParseMirrors) whose targets are ACR login servers, lower-cased and
// without a :443 port.
func parseMirrors(s string) ([]Mirror, error) {
	ms, err := plugin.ParseMirrors(s)
	if err != nil {
		return nil, err
	}
	var out []Mirror
	for _, m := range ms {
		target, _, ok := loginServer(m.Target)
		if !ok {
			return nil, fmt.Errorf("registry mirror %q: target %q is not an Azure Container Registry login server; want SOURCE:TARGET, e.g. mcr.microsoft.com:myacr.azurecr.io or reg.local:5000:myacr.azurecr.io", m.Source+":"+m.Target, strings.TrimSuffix(m.Target, ":443"))
		}
		out = append(out, Mirror{Source: m.Source, Target: target})
	}
	return out, nil
}

// matchMirror is plugin.MatchMirror: the longest source that is a prefix of
// image's repository on a host or path boundary.
func matchMirror(mirrors []Mirror, image string) (Mirror, bool) {
	m, ok := plugin.MatchMirror(*shared(mirrors), image)
	return Mirror(m), ok
}

// shared converts mirrors to the runtime's type.
func shared(mirrors []Mirror) *[]plugin.Mirror {
	out := make([]plugin.Mirror, len(mirrors))
	for i, m := range mirrors {
		out[i] = plugin.Mirror(m)
	}
	return &out
}
