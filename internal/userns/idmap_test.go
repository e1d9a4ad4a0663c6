package userns

import (
	"reflect"
	"strings"
	"testing"
)

func TestMapperArgs(t *testing.T) {
	tests := []struct {
		name string
		m    []IDMap
		want string
	}{{
		name: "empty",
		want: "",
	}, {
		name: "single",
		m:    []IDMap{{ContainerID: 0, HostID: 1000, Size: 1}},
		want: "0 1000 1",
	}, {
		name: "full, two subordinate ranges",
		m: []IDMap{
			{ContainerID: 0, HostID: 1000, Size: 1},
			{ContainerID: 1, HostID: 100000, Size: 65536},
			{ContainerID: 65537, HostID: 300000, Size: 10},
		},
		want: "0 1000 1 1 100000 65536 65537 300000 10",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapperArgs(tt.m)
			if got != tt.want {
				t.Errorf("mapperArgs = %q, want %q", got, tt.want)
			}
			back, err := parseMapperArgs(got)
			if err != nil {
				t.Fatalf("parseMapperArgs(%q): %v", got, err)
			}
			if !reflect.DeepEqual(back, tt.m) {
				t.Errorf("parseMapperArgs(mapperArgs(m)) = %+v, want %+v", back, tt.m)
			}
		})
	}
}

func TestParseMapperArgs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []IDMap
		wantErr bool
	}{{
		name: "extra spaces",
		in:   "  0  1000 1\t1 100000 65536 ",
		want: []IDMap{{0, 1000, 1}, {1, 100000, 65536}},
	}, {
		name:    "two numbers",
		in:      "0 1000",
		wantErr: true,
	}, {
		name:    "four numbers",
		in:      "0 1000 1 1",
		wantErr: true,
	}, {
		name:    "not a number",
		in:      "0 alice 1",
		wantErr: true,
	}, {
		name:    "not a number in the second entry",
		in:      "0 1000 1 1 100000 lots",
		wantErr: true,
	}, {
		name:    "commas",
		in:      "0,1000,1",
		wantErr: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMapperArgs(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseMapperArgs(%q) = %+v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q does not quote the input %q", err, tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMapperArgs(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseMapperArgs(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
