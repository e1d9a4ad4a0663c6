package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ConfigExtra is what an image config may hold that go-containerregistry's
// v1.ConfigFile has no field for. Configs that come from elsewhere (pull,
// load) are stored as their bytes, so these survive them untouched; the
// configs burrow writes itself (build) carry them through here.
type ConfigExtra struct {
	// HealthStartInterval is config.Healthcheck.StartInterval (Docker 25,
	// HEALTHCHECK --start-interval, nanoseconds in the JSON): how often the
	// check runs during the start period.
	HealthStartInterval time.Duration
}

// ReadConfigExtra reads the fields of ConfigExtra from a raw image config;
// a config that does not parse has none.
func ReadConfigExtra(raw []byte) ConfigExtra {
	var c struct {
		Config struct {
			Healthcheck *struct {
				StartInterval time.Duration `json:"StartInterval"`
			} `json:"Healthcheck"`
		} `json:"config"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Config.Healthcheck == nil {
		return ConfigExtra{}
	}
	return ConfigExtra{HealthStartInterval: c.Config.Healthcheck.StartInterval}
}

// ConfigExtra reads what image id's config holds beyond v1.ConfigFile; an
// image whose config cannot be read has none.
func (s *Store) ConfigExtra(id string) ConfigExtra {
	raw, err := s.RawConfig(id)
	if err != nil {
		return ConfigExtra{}
	}
	return ReadConfigExtra(raw)
}

// HealthConfig is Docker's health check of an image config, with its
// fields in Docker's order (go-containerregistry's lacks StartInterval).
type HealthConfig struct {
	Test          []string      `json:"Test,omitempty"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

// encodeConfig encodes an image config with the fields of extra. Without
// extras the bytes are exactly json.Marshal's, so image IDs stay as they
// were; a start interval is written into config.Healthcheck, where Docker
// writes it.
func encodeConfig(cfg *v1.ConfigFile, extra ConfigExtra) ([]byte, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the image config: %w", err)
	}
	h := cfg.Config.Healthcheck
	if extra.HealthStartInterval == 0 || h == nil {
		return data, nil
	}
	plain, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encoding the image config: %w", err)
	}
	full, err := json.Marshal(DockerHealth(h, extra))
	if err != nil {
		return nil, fmt.Errorf("encoding the image config: %w", err)
	}
	key := []byte(`"Healthcheck":`)
	if bytes.Count(data, append(key, plain...)) != 1 {
		return nil, fmt.Errorf("internal error: encoding the image config: no single healthcheck in %s", data)
	}
	return bytes.Replace(data, append(key, plain...), append(key, full...), 1), nil
}

// DockerHealth is an image's health check as Docker records it: h with
// the start interval of extra.
func DockerHealth(h *v1.HealthConfig, extra ConfigExtra) HealthConfig {
	return HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: extra.HealthStartInterval, Retries: h.Retries}
}
