package ecr

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// TestParseHost covers every host form: kind, account, region, partition,
// FIPS and dual-stack, and the API endpoint the SDK then resolves for the
// token call (through the same client options the provider uses).
func TestParseHost(t *testing.T) {
	const acct = "123456789012"
	tests := []struct {
		registry  string
		want      Host
		defRegion string // region for Other hosts (the configured one)
		endpoint  string
	}{
		{acct + ".dkr.ecr.us-east-1.amazonaws.com", Host{Kind: Private, Account: acct, Region: "us-east-1", Partition: "aws"}, "", "https://api.ecr.us-east-1.amazonaws.com"},
		{acct + ".dkr.ecr.eu-west-3.amazonaws.com:443", Host{Kind: Private, Account: acct, Region: "eu-west-3", Partition: "aws"}, "", "https://api.ecr.eu-west-3.amazonaws.com"},
		{acct + ".DKR.ECR.EU-WEST-1.AMAZONAWS.COM", Host{Kind: Private, Account: acct, Region: "eu-west-1", Partition: "aws"}, "", "https://api.ecr.eu-west-1.amazonaws.com"},
		{acct + ".dkr.ecr-fips.us-east-1.amazonaws.com", Host{Kind: Private, Account: acct, Region: "us-east-1", Partition: "aws", FIPS: true}, "", "https://api.ecr-fips.us-east-1.amazonaws.com"},
		{acct + ".dkr.ecr.us-gov-west-1.amazonaws.com", Host{Kind: Private, Account: acct, Region: "us-gov-west-1", Partition: "aws-us-gov"}, "", "https://api.ecr.us-gov-west-1.amazonaws.com"},
		{acct + ".dkr.ecr-fips.us-gov-west-1.amazonaws.com", Host{Kind: Private, Account: acct, Region: "us-gov-west-1", Partition: "aws-us-gov", FIPS: true}, "", "https://api.ecr-fips.us-gov-west-1.amazonaws.com"},
		{acct + ".dkr-ecr.us-west-2.on.aws", Host{Kind: Private, Account: acct, Region: "us-west-2", Partition: "aws", DualStack: true}, "", "https://ecr.us-west-2.api.aws"},
		{acct + ".dkr-ecr-fips.us-east-1.on.aws", Host{Kind: Private, Account: acct, Region: "us-east-1", Partition: "aws", FIPS: true, DualStack: true}, "", "https://ecr-fips.us-east-1.api.aws"},
		{acct + ".dkr.ecr.cn-north-1.amazonaws.com.cn", Host{Kind: Private, Account: acct, Region: "cn-north-1", Partition: "aws-cn"}, "", "https://api.ecr.cn-north-1.amazonaws.com.cn"},
		{acct + ".dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", Host{Kind: Private, Account: acct, Region: "cn-northwest-1", Partition: "aws-cn", DualStack: true}, "", "https://ecr.cn-northwest-1.api.amazonwebservices.com.cn"},
		{acct + ".dkr.ecr.eusc-de-east-1.amazonaws.eu", Host{Kind: Private, Account: acct, Region: "eusc-de-east-1", Partition: "aws-eusc"}, "", "https://api.ecr.eusc-de-east-1.amazonaws.eu"},
		{acct + ".dkr.ecr.us-iso-east-1.c2s.ic.gov", Host{Kind: Private, Account: acct, Region: "us-iso-east-1", Partition: "aws-iso"}, "", "https://api.ecr.us-iso-east-1.c2s.ic.gov"},
		{acct + ".dkr.ecr.us-isob-east-1.sc2s.sgov.gov", Host{Kind: Private, Account: acct, Region: "us-isob-east-1", Partition: "aws-iso-b"}, "", "https://api.ecr.us-isob-east-1.sc2s.sgov.gov"},
		{acct + ".dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", Host{Kind: Private, Account: acct, Region: "eu-isoe-west-1", Partition: "aws-iso-e"}, "", "https://api.ecr.eu-isoe-west-1.cloud.adc-e.uk"},
		{acct + ".dkr.ecr.us-isof-south-1.csp.hci.ic.gov", Host{Kind: Private, Account: acct, Region: "us-isof-south-1", Partition: "aws-iso-f"}, "", "https://api.ecr.us-isof-south-1.csp.hci.ic.gov"},
		{"public.ecr.aws", Host{Kind: Public, Region: "us-east-1", Partition: "aws"}, "", "https://api.ecr-public.us-east-1.amazonaws.com"},
		{"ecr-public.aws.com", Host{Kind: Public, Region: "us-east-1", Partition: "aws", DualStack: true}, "", "https://ecr-public.us-east-1.api.aws"},
		// Not ECR: mirrors and pull-through caches use the configured region.
		{"docker.io", Host{Kind: Other}, "eu-west-3", "https://api.ecr.eu-west-3.amazonaws.com"},
		{"mirror.example.com:5000", Host{Kind: Other}, "eu-west-3", "https://api.ecr.eu-west-3.amazonaws.com"},
		{"[::1]:5000", Host{Kind: Other}, "eu-west-3", "https://api.ecr.eu-west-3.amazonaws.com"},
		{"vpce-0123-abcd.dkr.ecr.us-east-1.vpce.amazonaws.com", Host{Kind: Other}, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com"},
		{"12345678901.dkr.ecr.us-east-1.amazonaws.com", Host{Kind: Other}, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com"},
		{acct + ".dkr.ecr.us-east-1.amazonaws.com.evil.example", Host{Kind: Other}, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com"},
		{"public.ecr.aws.example", Host{Kind: Other}, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.registry, func(t *testing.T) {
			got := ParseHost(tt.registry)
			if got != tt.want {
				t.Fatalf("ParseHost(%q) = %+v, want %+v", tt.registry, got, tt.want)
			}
			region := got.Region
			if region == "" {
				region = tt.defRegion
			}
			if ep := resolveEndpoint(t, aws.Config{Region: region}, got); ep != tt.endpoint {
				t.Errorf("token endpoint for %q = %s, want %s", tt.registry, ep, tt.endpoint)
			}
		})
	}
}

// resolveEndpoint resolves the token call's endpoint the way the client the
// provider builds for h would.
func resolveEndpoint(t *testing.T, cfg aws.Config, h Host) string {
	t.Helper()
	ctx := context.Background()
	if h.Kind == Public {
		o := publicClient(cfg, h).Options()
		ep, err := ecrpublic.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecrpublic.EndpointParameters{
			Region:       aws.String(o.Region),
			UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
			UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		})
		if err != nil {
			t.Fatalf("resolve ECR Public endpoint: %v", err)
		}
		return ep.URI.String()
	}
	o := privateClient(cfg, h).Options()
	ep, err := ecr.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecr.EndpointParameters{
		Region:       aws.String(o.Region),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
	})
	if err != nil {
		t.Fatalf("resolve ECR endpoint: %v", err)
	}
	return ep.URI.String()
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws", "docker.io:5000", "[::1]", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := ParseHost(s)
		if h.Kind == Private && (len(h.Account) != 12 || h.Region == "" || h.Partition == "") {
			t.Fatalf("ParseHost(%q) = %+v: private host without account, region or partition", s, h)
		}
		if h.Kind == Other && (h.Region != "" || h.FIPS || h.DualStack) {
			t.Fatalf("ParseHost(%q) = %+v: other host with ECR attributes", s, h)
		}
	})
}
