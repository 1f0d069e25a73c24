package kubelet

import (
	"strconv"
	"strings"

	"github.com/kcred/kcred/internal/ascii"
)

// The formats and messages of apimachinery's validation of qualified names
// (k8s.io/apimachinery v0.37.2, pkg/api/validate/content), which the
// kubelet applies to service-account annotation keys. The regexps appear
// only in messages: the checks below test the same grammars by hand.
const (
	qualifiedNameFmt    = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
	qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	qualifiedNameMaxLen = 63
	dns1123SubdomainFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
	dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
	dns1123SubdomainMax = 253
)

// isQualifiedName is validation.IsQualifiedName: nil, or its messages for
// value ("name" or "dns-subdomain-prefix/name").
func isQualifiedName(value string) []string {
	var errs []string
	parts := strings.Split(value, "/")
	var name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		prefix := parts[0]
		name = parts[1]
		if prefix == "" {
			errs = append(errs, "prefix part must be non-empty")
		} else {
			if len(prefix) > dns1123SubdomainMax {
				errs = append(errs, "prefix part must be no more than "+strconv.Itoa(dns1123SubdomainMax)+" bytes")
			}
			if !isDNS1123Subdomain(prefix) {
				errs = append(errs, "prefix part "+regexError(dns1123SubdomainMsg, dns1123SubdomainFmt, "example.com"))
			}
		}
	default:
		return append(errs, "a valid label key "+regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")+
			" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
	}
	if name == "" {
		errs = append(errs, "name part must be non-empty")
	} else if len(name) > qualifiedNameMaxLen {
		errs = append(errs, "name part must be no more than "+strconv.Itoa(qualifiedNameMaxLen)+" bytes")
	}
	if !isQualifiedNamePart(name) {
		errs = append(errs, "name part "+regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"))
	}
	return errs
}

// isQualifiedNamePart matches qualifiedNameFmt whole.
func isQualifiedNamePart(s string) bool {
	if s == "" || !ascii.IsAlnum(s[0]) || !ascii.IsAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !ascii.IsAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// isDNS1123Subdomain matches dns1123SubdomainFmt whole: dot-separated
// labels of lower-case letters, digits and '-', each starting and ending
// with a letter or digit.
func isDNS1123Subdomain(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || !ascii.IsLowerAlnum(label[0]) || !ascii.IsLowerAlnum(label[len(label)-1]) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !ascii.IsLowerAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// regexError is content.RegexError's text.
func regexError(msg, re string, examples ...string) string {
	msg += " (e.g. "
	for i, e := range examples {
		if i > 0 {
			msg += " or "
		}
		msg += "'" + e + "', "
	}
	return msg + "regex used for validation is '" + re + "')"
}
