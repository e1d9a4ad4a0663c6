package storage

import (
	"strings"
	"testing"
	"time"
)

func TestParseUntil(t *testing.T) {
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		skip string
	}{
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "10m", want: now.Add(-10 * time.Minute)},
		{in: "1h30m", want: now.Add(-90 * time.Minute)},
		{in: "1.5h", want: now.Add(-90 * time.Minute)},
		{in: "1700000000", want: time.Unix(1700000000, 0)},
		{in: "1700000000.000000001", want: time.Unix(1700000000, 1)},
		{in: "1700000000.123456789", want: time.Unix(1700000000, 123456789)},
		{
			in: "1700000000.5", want: time.Unix(1700000000, 500000000),
		},
		{
			in: "0", want: time.Unix(0, 0),
		},
		{in: "2026-01-30", want: time.Date(2026, 1, 30, 0, 0, 0, 0, time.Local)},
		{in: "2026-01-30T10:20:30", want: time.Date(2026, 1, 30, 10, 20, 30, 0, time.Local)},
		{in: "2026-01-30T10:20", want: time.Date(2026, 1, 30, 10, 20, 0, 0, time.Local)},
		{in: "2026-01-30T10:20:30Z", want: time.Date(2026, 1, 30, 10, 20, 30, 0, time.UTC)},
		{in: "2026-01-30T10:20:30.5+02:00", want: time.Date(2026, 1, 30, 8, 20, 30, 500000000, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			got, err := ParseUntil(tt.in, now)
			if err != nil {
				t.Fatalf("ParseUntil(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseUntil(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseUntilErrors(t *testing.T) {
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		skip string
	}{
		{in: ""},
		{in: "junk"},
		{in: "yesterday"},
		{in: "2026-13-01"},
		{in: "2026-01-31T25:00"},
		{in: "31.01.2026x-"},
		{in: "7d"},
		{in: "2026/01/31"},
		{in: "12abc"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			got, err := ParseUntil(tt.in, now)
			if err == nil {
				t.Fatalf("ParseUntil(%q) = %v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), `"`+tt.in+`"`) {
				t.Errorf("error %q does not quote the value", err)
			}
			if !strings.Contains(err.Error(), "hint:") {
				t.Errorf("error %q has no hint", err)
			}
		})
	}
}
