package ecr

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
)

// Kind says which token API serves a registry.
type Kind int

const (
	// Other is any host that is not ECR (a mirror, a pull-through cache):
	// a private-ECR token for the configured region is offered, as upstream
	// does since v1.29.0.
	Other Kind = iota
	// Private is an ECR private registry (<account>.dkr.ecr.<region>...).
	Private
	// Public is ECR Public (public.ecr.aws, ecr-public.aws.com).
	Public
)

func (k Kind) String() string {
	switch k {
	case Private:
		return "private"
	case Public:
		return "public"
	default:
		return "other"
	}
}

// Host is what a registry host name tells about where to get its token.
type Host struct {
	// Kind selects the token API.
	Kind Kind
	// Account is the 12-digit registry account (Private only).
	Account string
	// Region is the region named by the host; empty for Other (the SDK's
	// configured region is used) and "us-east-1" for Public.
	Region string
	// Partition is the AWS partition the host's DNS suffix belongs to
	// ("aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", ...); empty for
	// Other.
	Partition string
	// FIPS is set for the -fips host forms: the token call then goes to the
	// FIPS endpoint.
	FIPS bool
	// DualStack is set for the IPv6-capable host forms (dkr-ecr.*.on.aws,
	// ecr-public.aws.com): the token call then goes to the dual-stack
	// endpoint, so an IPv6-only node can reach it.
	DualStack bool
}

// publicRegion is the only region ECR Public's token API lives in.
const publicRegion = "us-east-1"

// privateHost matches every private ECR host form: 12-digit account,
// dkr.ecr or dual-stack dkr-ecr, optional -fips, the region, and the
// partition's DNS suffix. The same shape as upstream's, split so the suffix
// tells the partition. Compiled on first use, not at package init: init
// runs on every exec of every role.
var privateHost = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z0-9][a-z0-9-]*)\.` +
		`(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|` +
		`c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)
})

// suffixPartition maps a private host's DNS suffix to its partition
// (GovCloud shares amazonaws.com and is told apart by the region).
var suffixPartition = map[string]string{
	"amazonaws.com":               "aws",
	"amazonaws.com.cn":            "aws-cn",
	"amazonaws.eu":                "aws-eusc",
	"on.aws":                      "aws",
	"on.amazonwebservices.com.cn": "aws-cn",
	"c2s.ic.gov":                  "aws-iso",
	"sc2s.sgov.gov":               "aws-iso-b",
	"cloud.adc-e.uk":              "aws-iso-e",
	"csp.hci.ic.gov":              "aws-iso-f",
}

// ParseHost classifies a registry host ("host" or "host:port"; upper case
// is folded, as DNS does). It never fails: a host that is not ECR is Other.
func ParseHost(registry string) Host {
	host := strings.ToLower(hostname(registry))
	switch host {
	case "public.ecr.aws":
		return Host{Kind: Public, Region: publicRegion, Partition: "aws"}
	case "ecr-public.aws.com":
		return Host{Kind: Public, Region: publicRegion, Partition: "aws", DualStack: true}
	}
	m := privateHost().FindStringSubmatch(host)
	if m == nil {
		return Host{Kind: Other}
	}
	suffix := m[5]
	partition := suffixPartition[suffix]
	if partition == "aws" && strings.HasPrefix(m[4], "us-gov-") {
		partition = "aws-us-gov"
	}
	return Host{
		Kind:      Private,
		Account:   m[1],
		Region:    m[4],
		Partition: partition,
		FIPS:      m[3] != "",
		// The dashed form (dkr-ecr) is the dual-stack one; its suffix is on.aws
		// or on.amazonwebservices.com.cn.
		DualStack: m[2] == "-" || strings.HasPrefix(suffix, "on."),
	}
}

// hostname strips a port (and the brackets of an IPv6 literal).
func hostname(registry string) string {
	if h, _, err := net.SplitHostPort(registry); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(registry, "["), "]")
}

// String describes h for logs.
func (h Host) String() string {
	s := fmt.Sprintf("%s region=%q partition=%q", h.Kind, h.Region, h.Partition)
	if h.FIPS {
		s += " fips"
	}
	if h.DualStack {
		s += " dual-stack"
	}
	return s
}
