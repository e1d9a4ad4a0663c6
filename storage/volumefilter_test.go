package storage

import "testing"

func TestVolumeFilter(t *testing.T) {
	v := &Volume{Name: "data-1", Labels: map[string]string{"env": "prod", "tier": ""}}
	tests := []struct {
		name      string
		in        []string
		prune     bool
		used      bool
		want      bool
		wantUsers bool
		wantErr   string
	}{
		{name: "no filter", want: true},
		{name: "dangling and unused", in: []string{"dangling=true"}, want: true, wantUsers: true},
		{name: "dangling but used", in: []string{"dangling=1"}, used: true, want: false, wantUsers: true},
		{name: "not dangling and used", in: []string{"dangling=false"}, used: true, want: true, wantUsers: true},
		{name: "name substring", in: []string{"name=ta-"}, want: true},
		{name: "name missing", in: []string{"name=logs"}, want: false},
		{name: "label key", in: []string{"label=tier"}, want: true},
		{name: "label key and value", in: []string{"label=env=prod"}, want: true},
		{name: "label other value", in: []string{"label=env=dev"}, want: false},
		{name: "negated label", in: []string{"label!=env=dev"}, want: true},
		{name: "negated label present", in: []string{"label!=env"}, want: false},
		{name: "all must hold", in: []string{"label=env", "name=logs"}, want: false},
		{name: "prune takes labels", in: []string{"label=env"}, prune: true, want: true},
		{name: "no equals sign", in: []string{"dangling"}, wantErr: `bad format of filter (expected name=value): "dangling"`},
		{name: "bad dangling value", in: []string{"dangling=yes"}, wantErr: "invalid filter 'dangling=yes' (hint: true or false)"},
		{name: "unknown filter", in: []string{"driver=local"}, wantErr: "invalid filter 'driver'"},
		{name: "prune takes no dangling", in: []string{"dangling=true"}, prune: true, wantErr: "invalid filter 'dangling'"},
		{name: "prune takes no name", in: []string{"name=x"}, prune: true, wantErr: "invalid filter 'name'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := ParseVolumeFilters
			if tt.prune {
				parse = ParseVolumePruneFilters
			}
			f, err := parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parsing %q: error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsing %q: %v", tt.in, err)
			}
			if got := f.Match(v, tt.used); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			if got := f.NeedsContainers(); got != tt.wantUsers {
				t.Errorf("NeedsContainers = %v, want %v", got, tt.wantUsers)
			}
		})
	}
}
