package run

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/burrow-oci/burrow/storage"
)

// ParseRestart reads a restart policy, as --restart gives it:
// no, always, unless-stopped or on-failure[:MAX].
func ParseRestart(s string) (string, int, error) {
	name, n, hasN := strings.Cut(s, ":")
	switch name {
	case "", "no":
		return "no", 0, nil
	case "always", "unless-stopped":
		if hasN {
			return "", 0, fmt.Errorf("maximum retry count cannot be used with restart policy '%s'", name)
		}
		return name, 0, nil
	case "on-failure":
		max := 0
		if hasN {
			var err error
			if max, err = strconv.Atoi(n); err != nil || max < 0 {
				return "", 0, fmt.Errorf("invalid restart policy: maximum retry count must be a positive integer")
			}
		}
		return name, max, nil
	}
	return "", 0, fmt.Errorf("invalid restart policy '%s' (hint: no, on-failure[:max-retries], always or unless-stopped)", name)
}

// ImageHealthCheck is the health check an image's HEALTHCHECK sets, with
// Docker's defaults for what it leaves out; its Test is empty when the
// image has none (or HEALTHCHECK NONE).
func ImageHealthCheck(img *v1.Config, extra storage.ConfigExtra) *storage.HealthCheck {
	h := &storage.HealthCheck{Interval: 30 * time.Second, Timeout: 30 * time.Second, Retries: 3}
	if ic := img.Healthcheck; ic != nil && len(ic.Test) > 0 && ic.Test[0] != "NONE" {
		h.Test = ic.Test
		if ic.Interval > 0 {
			h.Interval = ic.Interval
		}
		if ic.Timeout > 0 {
			h.Timeout = ic.Timeout
		}
		if ic.StartPeriod > 0 {
			h.StartPeriod = ic.StartPeriod
		}
		h.StartInterval = extra.HealthStartInterval
		if ic.Retries > 0 {
			h.Retries = ic.Retries
		}
	}
	return h
}
