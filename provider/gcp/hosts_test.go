package gcp

import "testing"

func TestIsGoogleRegistry(t *testing.T) {
	tests := []struct {
		registry string
		want     bool
	}{
		{"gcr.io", true},
		{"us.gcr.io", true},
		{"eu.gcr.io", true},
		{"asia.gcr.io", true},
		{"marketplace.gcr.io", true},
		{"container.cloud.google.com", true},
		{"us-central1-docker.pkg.dev", true},
		{"europe-docker.pkg.dev", true},
		{"GCR.IO", true},
		{"pkg.dev", false},
		{"a.b.pkg.dev", false},
		{"mirror.gcr.io.example.com", false},
		{"evilgcr.io", false},
		{"gcr.io.evil.com", false},
		{"cloud.google.com", false},
		{"x.container.cloud.google.com", false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", false},
		{"myreg.azurecr.io", false},
		{"localhost:5000", false},
		{"gcr.io:5000", false},
		{"gcr.io:443", true},
		{"europe-docker.pkg.dev:443", true},
		{"gcr.io:4430", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isGoogleRegistry(tt.registry); got != tt.want {
			t.Errorf("isGoogleRegistry(%q) = %v, want %v", tt.registry, got, tt.want)
		}
	}
}
