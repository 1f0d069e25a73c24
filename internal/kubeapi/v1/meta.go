package v1

import (
	"encoding/json"
	"time"
)

// TypeMeta is every object's kind and apiVersion.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// Duration is a time.Duration that travels as its String form ("1m30s").
type Duration struct {
	time.Duration
}

// UnmarshalJSON reads a JSON string with time.ParseDuration, returning the
// errors meta/v1's Duration returns.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	pd, err := time.ParseDuration(str)
	if err != nil {
		return err
	}
	d.Duration = pd
	return nil
}

// MarshalJSON writes the duration as the JSON string of time.Duration.String.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Duration.String())
}
