package storage

import (
	"reflect"
	"testing"
	"time"
)

func TestParseImageFilters(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name    string
		in      []string
		want    ImageFilter
		wantErr string
	}{
		{name: "none", in: nil, want: ImageFilter{}},
		{name: "dangling true", in: []string{"dangling=true"}, want: ImageFilter{Dangling: &yes}},
		{name: "dangling 0, key case ignored", in: []string{"Dangling=0"}, want: ImageFilter{Dangling: &no}},
		{name: "references and labels add up", in: []string{"reference=busy*", "label=a", "reference=alpine", "label=b=c"},
			want: ImageFilter{References: []string{"busy*", "alpine"}, Labels: []string{"a", "b=c"}}},
		{name: "before and since", in: []string{"before=a:1", "since=b"}, want: ImageFilter{Before: "a:1", Since: "b"}},
		{name: "no equals sign", in: []string{"dangling"}, wantErr: `bad format of filter (expected name=value): "dangling"`},
		{name: "bad dangling value", in: []string{"dangling=maybe"},
			wantErr: "invalid filter 'dangling=maybe' (hint: use dangling=true or dangling=false)"},
		{name: "unknown filter", in: []string{"until=1h"},
			wantErr: "invalid filter 'until' (hint: images filters are dangling, reference, label, before and since)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseImageFilters(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseImageFilters(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseImageFilters(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseImageFilters(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestImageFilterMatchListed(t *testing.T) {
	yes := true
	t0 := time.Unix(1700000000, 0)
	named := &Image{ID: "a", Names: []string{"docker.io/library/busybox:latest"}, Created: t0}
	nameless := &Image{ID: "b", Created: t0}
	tests := []struct {
		name          string
		f             ImageFilter
		img           *Image
		before, since time.Time
		want          bool
	}{
		{name: "zero filter keeps", img: named, want: true},
		{name: "dangling keeps nameless", f: ImageFilter{Dangling: &yes}, img: nameless, want: true},
		{name: "dangling drops named", f: ImageFilter{Dangling: &yes}, img: named, want: false},
		{name: "reference matches a name", f: ImageFilter{References: []string{"busybox"}}, img: named, want: true},
		{name: "reference matches no name", f: ImageFilter{References: []string{"alpine"}}, img: named, want: false},
		{name: "reference drops nameless", f: ImageFilter{References: []string{"*"}}, img: nameless, want: false},
		{name: "created before", img: named, before: t0.Add(time.Second), want: true},
		{name: "not before itself", img: named, before: t0, want: false},
		{name: "created since", img: named, since: t0.Add(-time.Second), want: true},
		{name: "not since itself", img: named, since: t0, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.matchListed(tt.img, tt.before, tt.since); got != tt.want {
				t.Errorf("matchListed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImageFilterMatchesName(t *testing.T) {
	f := ImageFilter{}
	if !f.MatchesName("docker.io/library/busybox:latest") {
		t.Error("a filter without references must keep every name")
	}
	f.References = []string{"alpine"}
	if f.MatchesName("docker.io/library/busybox:latest") {
		t.Error("busybox matched the reference filter alpine")
	}
	if !f.MatchesName("docker.io/library/alpine:latest") {
		t.Error("alpine did not match the reference filter alpine")
	}
}

func TestIntermediateImages(t *testing.T) {
	imgs := []Image{
		{ID: "final", Names: []string{"localhost/app:latest"}, TopLayer: "l3", Layers: []string{"l1", "l2", "l3"}},
		{ID: "step", TopLayer: "l2", Layers: []string{"l1", "l2"}},                              // a build step
		{ID: "pulled", Digests: []string{"x@sha256:1"}, TopLayer: "l1", Layers: []string{"l1"}}, // lost its tags
		{ID: "leaf", TopLayer: "l9", Layers: []string{"l1", "l9"}},                              // dangling, nothing above
	}
	got := intermediateImages(imgs)
	want := map[string]bool{"step": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("intermediateImages = %v, want %v", got, want)
	}
}
