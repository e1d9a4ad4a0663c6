package storage

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParseUntil reads Docker's until= value: a duration before now ("24h",
// "10m"), a Unix timestamp with an optional fraction ("1700000000.5"; "0"
// is the epoch, not a duration), or an RFC 3339 date or time.
func ParseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && v != "0" {
		return now.Add(-d), nil
	}
	if unixStamp().MatchString(v) {
		secs, frac, _ := strings.Cut(v, ".")
		sec, err := strconv.ParseInt(secs, 10, 64)
		if err == nil {
			var nsec int64
			if frac != "" {
				frac = (frac + "000000000")[:9]
				nsec, _ = strconv.ParseInt(frac, 10, 64)
			}
			return time.Unix(sec, nsec), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid until filter %q (hint: use a duration such as 24h, a Unix timestamp, or a date such as 2026-01-31)", v)
}

var unixStamp = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?$`) })
