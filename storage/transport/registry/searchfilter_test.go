package registry

import "testing"

func TestSearchFilter(t *testing.T) {
	official := SearchResult{Name: "busybox", Stars: 3000, Official: true}
	community := SearchResult{Name: "someone/busybox", Stars: 2}
	tests := []struct {
		name          string
		in            []string
		wantOfficial  bool
		wantCommunity bool
		wantErr       string
	}{
		{name: "no filter", wantOfficial: true, wantCommunity: true},
		{name: "official only", in: []string{"is-official=true"}, wantOfficial: true},
		{name: "not official", in: []string{"is-official=false"}, wantCommunity: true},
		{name: "stars", in: []string{"stars=10"}, wantOfficial: true},
		{name: "stars at the bound", in: []string{"stars=2"}, wantOfficial: true, wantCommunity: true},
		{name: "is-automated is ignored", in: []string{"is-automated=true"}, wantOfficial: true, wantCommunity: true},
		{name: "bad bool", in: []string{"is-official=maybe"}, wantErr: "invalid filter 'is-official=maybe' (hint: is-official=true or false)"},
		{name: "bad stars", in: []string{"stars=many"}, wantErr: "invalid filter 'stars=many' (hint: a number)"},
		{name: "unknown", in: []string{"name=x"}, wantErr: "invalid filter 'name' (hint: is-official=true|false or stars=N)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseSearchFilters(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseSearchFilters(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSearchFilters(%q): %v", tt.in, err)
			}
			if got := f.Keep(&official); got != tt.wantOfficial {
				t.Errorf("Keep(official) = %v, want %v", got, tt.wantOfficial)
			}
			if got := f.Keep(&community); got != tt.wantCommunity {
				t.Errorf("Keep(community) = %v, want %v", got, tt.wantCommunity)
			}
		})
	}
}
