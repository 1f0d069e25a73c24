package acr

import "testing"

func TestLoginServer(t *testing.T) {
	tests := []struct {
		registry string
		want     string
		cloud    string
	}{
		{"myreg.azurecr.io", "myreg.azurecr.io", "AzurePublicCloud"},
		{"xxx.azurecr.io", "xxx.azurecr.io", "AzurePublicCloud"},
		{"MyReg.AzureCR.io", "myreg.azurecr.io", "AzurePublicCloud"},
		{"myreg.azurecr.io:443", "myreg.azurecr.io", "AzurePublicCloud"},
		{"myreg-abc123hash.azurecr.io", "myreg-abc123hash.azurecr.io", "AzurePublicCloud"},
		{"myreg.eastus2.geo.azurecr.io", "myreg.eastus2.geo.azurecr.io", "AzurePublicCloud"},
		{"myreg.azurecr.cn", "myreg.azurecr.cn", "AzureChinaCloud"},
		{"myreg.chinanorth3.geo.azurecr.cn", "myreg.chinanorth3.geo.azurecr.cn", "AzureChinaCloud"},
		{"myreg.azurecr.us", "myreg.azurecr.us", "AzureUSGovernmentCloud"},
		// Look-alikes and non-ACR hosts.
		{"evilazurecr.io", "", ""},
		{"azurecr.io", "", ""},
		{".azurecr.io", "", ""},
		{"myreg.azurecr.io.example.com", "", ""},
		{"myreg.azurecr.io:5000", "", ""},
		{"myreg.azurecr.io.", "", ""},
		{"a.b.azurecr.io", "", ""},
		{"myreg.eastus.notgeo.azurecr.io", "", ""},
		{"-myreg.azurecr.io", "", ""},
		{"my_reg.azurecr.io", "", ""},
		{"myreg--x.azurecr.io", "", ""},
		{"myreg.azurecr.de", "", ""},
		{"myregazurecr.cn", "", ""},
		{"mcr.microsoft.com", "", ""},
		{"docker.io", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got, c, ok := loginServer(tt.registry)
		if ok != (tt.want != "") || got != tt.want || c.Name != tt.cloud {
			t.Errorf("loginServer(%q) = %q, %q, %v; want %q, %q", tt.registry, got, c.Name, ok, tt.want, tt.cloud)
		}
	}
}

func TestCloudByName(t *testing.T) {
	tests := map[string]string{
		"":                       "AzurePublicCloud",
		"AzurePublicCloud":       "AzurePublicCloud",
		"AzureCloud":             "AzurePublicCloud",
		"azurechinacloud":        "AzureChinaCloud",
		"AzureUSGovernment":      "AzureUSGovernmentCloud",
		"AzureUSGovernmentCloud": "AzureUSGovernmentCloud",
	}
	for in, want := range tests {
		c, err := cloudByName(in)
		if err != nil || c.Name != want {
			t.Errorf("cloudByName(%q) = %q, %v; want %q", in, c.Name, err, want)
		}
	}
	if _, err := cloudByName("AzureGermanCloud"); err == nil {
		t.Error("AzureGermanCloud accepted")
	}
}
