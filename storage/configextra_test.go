package storage

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestEncodeConfig(t *testing.T) {
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "a && b < c"}, Interval: time.Second, StartPeriod: time.Minute, Retries: 2},
	}}
	plain, _ := json.Marshal(cfg)
	got, err := encodeConfig(cfg, ConfigExtra{})
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("without extras: %s, %v; want json.Marshal's %s", got, err, plain)
	}
	got, err = encodeConfig(cfg, ConfigExtra{HealthStartInterval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"StartPeriod":60000000000,"StartInterval":2000000000,"Retries":2}`)) {
		t.Errorf("start interval not where Docker writes it: %s", got)
	}
	if back := ReadConfigExtra(got); back.HealthStartInterval != 2*time.Second {
		t.Errorf("ReadConfigExtra = %+v", back)
	}
	var again v1.ConfigFile
	if err := json.Unmarshal(got, &again); err != nil || again.Config.Healthcheck.Retries != 2 {
		t.Errorf("the encoded config does not decode: %v", err)
	}
	if got, _ := encodeConfig(&v1.ConfigFile{}, ConfigExtra{HealthStartInterval: time.Second}); bytes.Contains(got, []byte("StartInterval")) {
		t.Errorf("a start interval without a healthcheck was written: %s", got)
	}
}
