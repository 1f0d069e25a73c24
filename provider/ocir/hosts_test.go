package ocir

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dedicatedRegion is taught to the SDK through OCI_REGION_METADATA for the
// whole test binary (the SDK reads that variable once per process).
const dedicatedRegion = `{"realmKey":"OC77","realmDomainComponent":"dedicated.example","regionKey":"DDX","regionIdentifier":"us-dedicated-1"}`

func TestMain(m *testing.M) {
	os.Setenv("OCI_REGION_METADATA", dedicatedRegion)
	os.Exit(m.Run())
}

func TestParseHost(t *testing.T) {
	ashburn := Host{Region: "us-ashburn-1", Realm: "oc1", Domain: "oraclecloud.com"}
	tests := []struct {
		registry string
		want     Host
		ok       bool
	}{
		{"iad.ocir.io", ashburn, true},
		{"IAD.OCIR.IO:443", ashburn, true},
		{"iad.ocir.io.", ashburn, true},
		{"us-ashburn-1.ocir.io", ashburn, true},
		{"ocir.us-ashburn-1.oci.oraclecloud.com", ashburn, true},
		{"ocir.us-ashburn-1.oci.oraclecloud.com:8443", ashburn, true},
		{"fra.ocir.io", Host{"eu-frankfurt-1", "oc1", "oraclecloud.com"}, true},
		{"ocir.us-langley-1.oci.oraclegovcloud.com", Host{"us-langley-1", "oc2", "oraclegovcloud.com"}, true},
		{"ocir.uk-gov-london-1.oci.oraclegovcloud.uk", Host{"uk-gov-london-1", "oc4", "oraclegovcloud.uk"}, true},
		{"ocir.eu-frankfurt-2.oci.oraclecloud.eu", Host{"eu-frankfurt-2", "oc19", "oraclecloud.eu"}, true},
		// A dedicated region from OCI_REGION_METADATA: long form only, as
		// ocir.io serves the commercial realm.
		{"ocir.us-dedicated-1.oci.dedicated.example", Host{"us-dedicated-1", "oc77", "dedicated.example"}, true},
		{"ddx.ocir.io", Host{}, false},
		{"us-dedicated-1.ocir.io", Host{}, false},
		// Government regions have no ocir.io name.
		{"us-langley-1.ocir.io", Host{}, false},
		// Not OCIR.
		{"docker.io", Host{}, false},
		{"ocir.io", Host{}, false},
		{"nope.ocir.io", Host{}, false},
		{"a.iad.ocir.io", Host{}, false},
		{"iad.ocir.io.evil.example", Host{}, false},
		{"iad-ocir.io", Host{}, false},
		{"ocir.iad.oci.oraclecloud.com", Host{}, false},
		{"ocir.us-ashburn-1.oci.oraclegovcloud.com", Host{}, false},
		{"ocir.us-ashburn-1.oci.oraclecloud.com.evil.example", Host{}, false},
		{"artifacts.us-ashburn-1.oci.oraclecloud.com", Host{}, false},
		{"ocir..oci.oraclecloud.com", Host{}, false},
		{"ocir.us_ashburn_1.oci.oraclecloud.com", Host{}, false},
		{"[::1]:5000", Host{}, false},
		{"", Host{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseHost(tt.registry)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseHost(%q) = %+v, %v; want %+v, %v", tt.registry, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseHostEveryRegion checks all three host forms for every region
// in the SDK's own region list (regions.json beside its region table).
func TestParseHostEveryRegion(t *testing.T) {
	regions := sdkRegions(t)
	for _, r := range regions {
		want := Host{Region: r.RegionIdentifier, Realm: r.RealmKey, Domain: r.RealmDomainComponent}
		long := "ocir." + r.RegionIdentifier + ".oci." + r.RealmDomainComponent
		if got, ok := ParseHost(long); !ok || got != want {
			t.Errorf("ParseHost(%q) = %+v, %v; want %+v", long, got, ok, want)
		}
		for _, short := range []string{r.RegionKey + ".ocir.io", r.RegionIdentifier + ".ocir.io"} {
			got, ok := ParseHost(short)
			if r.RealmKey == "oc1" && (!ok || got != want) {
				t.Errorf("ParseHost(%q) = %+v, %v; want %+v", short, got, ok, want)
			}
			if r.RealmKey != "oc1" && ok {
				t.Errorf("ParseHost(%q) = %+v for realm %s; ocir.io is the commercial realm's", short, got, r.RealmKey)
			}
		}
	}
}

// sdkRegion is an entry of the SDK's regions.json.
type sdkRegion struct {
	RegionKey, RealmDomainComponent, RegionIdentifier, RealmKey string
}

// sdkRegions reads regions.json from the oci-go-sdk module source.
func sdkRegions(t *testing.T) []sdkRegion {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/oracle/oci-go-sdk/v65").Output()
	if err != nil {
		t.Skipf("oci-go-sdk source not found: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "common", "regions.json"))
	if err != nil {
		t.Skipf("regions.json: %v", err)
	}
	var regions []sdkRegion
	if err := json.Unmarshal(raw, &regions); err != nil {
		t.Fatal(err)
	}
	if len(regions) < 50 {
		t.Fatalf("only %d regions in regions.json", len(regions))
	}
	return regions
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"iad.ocir.io", "ocir.us-ashburn-1.oci.oraclecloud.com:443", "docker.io", "ocir..oci.", "[::1]:5000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, registry string) {
		h, ok := ParseHost(registry)
		if ok && (h.Region == "" || h.Realm == "" || h.Domain == "") {
			t.Fatalf("ParseHost(%q) = %+v: incomplete", registry, h)
		}
		if !ok && h != (Host{}) {
			t.Fatalf("ParseHost(%q) = %+v but not ok", registry, h)
		}
	})
}
