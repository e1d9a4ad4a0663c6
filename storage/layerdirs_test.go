package storage

import (
	"reflect"
	"testing"
)

func TestLayerDirs(t *testing.T) {
	s := &Store{driver: "overlay", opts: Options{Root: "/r"}}
	tests := []struct {
		name   string
		layers []string
		want   map[string]string
	}{
		{"no layers", nil, map[string]string{}},
		{"one layer", []string{"a"}, map[string]string{"UpperDir": "/r/overlay/a/diff"}},
		{"three layers", []string{"a", "b", "c"}, map[string]string{
			"UpperDir": "/r/overlay/c/diff", "LowerDir": "/r/overlay/b/diff:/r/overlay/a/diff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.LayerDirs(&Image{Layers: tt.layers}); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LayerDirs = %v, want %v", got, tt.want)
			}
		})
	}
}
