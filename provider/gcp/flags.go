package gcp

import (
	"fmt"
	"net/mail"
	"strings"
)

// Auth flows of upstream's --authFlow, spelled exactly as upstream does.
const (
	// FlowGCR is the default: a Google access token for the registry.
	FlowGCR = "gcr"
	// FlowDockercfg returns the credentials of the instance attribute
	// google-dockercfg.
	FlowDockercfg = "dockercfg"
	// FlowDockercfgURL returns the credentials found at the URL held by the
	// instance attribute google-dockercfg-url.
	FlowDockercfgURL = "dockercfg-url"
)

// authFlowFlag is --authFlow / -a: exactly one of upstream's three values,
// case-sensitive like upstream's (a config that upstream refuses must not
// silently work here, and the reverse).
type authFlowFlag struct{ flow *string }

func (f authFlowFlag) String() string {
	if f.flow == nil || *f.flow == "" {
		return FlowGCR
	}
	return *f.flow
}

func (f authFlowFlag) Set(s string) error {
	switch s {
	case FlowGCR, FlowDockercfg, FlowDockercfgURL:
		*f.flow = s
		return nil
	}
	// The flag package words it `invalid value "S" for flag -NAME: ` + this.
	return fmt.Errorf("want %s, %s or %s", FlowGCR, FlowDockercfg, FlowDockercfgURL)
}

// checkEmail accepts a service-account email as Google spells them
// (NAME@PROJECT.iam.gserviceaccount.com, or a legacy or Google-managed
// domain): one address, nothing that could escape a URL path.
func checkEmail(email, source string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || strings.ContainsAny(email, "/?#%\\ ") {
		return fmt.Errorf("%s %q is not a service-account email (want NAME@PROJECT.iam.gserviceaccount.com)", source, email)
	}
	return nil
}
