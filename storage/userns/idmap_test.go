package userns

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	tests := []struct {
		name  string
		input string
		user  string
		id    int
		want  []Range
	}{{
		name:  "by name",
		input: "alice:100000:65536\n",
		user:  "alice", id: 1000,
		want: []Range{{Start: 100000, Count: 65536}},
	}, {
		name:  "by numeric uid",
		input: "1000:200000:65536\n",
		user:  "alice", id: 1000,
		want: []Range{{Start: 200000, Count: 65536}},
	}, {
		name:  "several ranges, by name and uid, in file order",
		input: "alice:100000:65536\nbob:165536:65536\n1000:300000:1000\nalice:400000:10\n",
		user:  "alice", id: 1000,
		want: []Range{{100000, 65536}, {300000, 1000}, {400000, 10}},
	}, {
		name:  "comments, blank lines and surrounding space",
		input: "# alice:1:1\n\n   \n  alice:100000:65536  \n\t# bob\n",
		user:  "alice", id: 1000,
		want: []Range{{100000, 65536}},
	}, {
		name: "malformed lines are skipped",
		input: strings.Join([]string{
			"alice:100000",           // too few fields
			"alice:100000:65536:x",   // too many fields
			"alice:abc:65536",        // start not a number
			"alice:100000:many",      // count not a number
			"alice:-5:65536",         // negative start
			"alice:100000:0",         // empty range
			"alice:100000:-1",        // negative count
			"alice 100000 65536",     // wrong separator
			"alice:500000:65536",     // the one good line
			"alice:600000:65536junk", // trailing junk
		}, "\n"),
		user: "alice", id: 1000,
		want: []Range{{500000, 65536}},
	}, {
		name:  "other users are ignored",
		input: "bob:100000:65536\n1001:165536:65536\nalicia:231072:65536\nalic:1:1\n10000:2:2\n",
		user:  "alice", id: 1000,
		want: nil,
	}, {
		name:  "empty file",
		input: "",
		user:  "alice", id: 1000,
		want: nil,
	}, {
		name:  "start zero is allowed",
		input: "alice:0:1\n",
		user:  "alice", id: 1000,
		want: []Range{{0, 1}},
	}, {
		name:  "no trailing newline",
		input: "alice:100000:65536",
		user:  "alice", id: 1000,
		want: []Range{{100000, 65536}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSubIDs(strings.NewReader(tt.input), tt.user, tt.id)
			if err != nil {
				t.Fatalf("ParseSubIDs: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSubIDs = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFullMap(t *testing.T) {
	tests := []struct {
		name   string
		hostID int
		ranges []Range
		want   []IDMap
	}{{
		name:   "no ranges is the single map",
		hostID: 1000,
		want:   []IDMap{{ContainerID: 0, HostID: 1000, Size: 1}},
	}, {
		name:   "one range",
		hostID: 1000,
		ranges: []Range{{100000, 65536}},
		want: []IDMap{
			{ContainerID: 0, HostID: 1000, Size: 1},
			{ContainerID: 1, HostID: 100000, Size: 65536},
		},
	}, {
		name:   "ranges follow each other inside the namespace",
		hostID: 1001,
		ranges: []Range{{100000, 65536}, {300000, 10}, {500, 5}},
		want: []IDMap{
			{ContainerID: 0, HostID: 1001, Size: 1},
			{ContainerID: 1, HostID: 100000, Size: 65536},
			{ContainerID: 65537, HostID: 300000, Size: 10},
			{ContainerID: 65547, HostID: 500, Size: 5},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FullMap(tt.hostID, tt.ranges)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FullMap = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSingleMap(t *testing.T) {
	for _, id := range []int{0, 1000, 65534} {
		got := SingleMap(id)
		want := []IDMap{{ContainerID: 0, HostID: id, Size: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SingleMap(%d) = %+v, want %+v", id, got, want)
		}
	}
}

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
		m:    SingleMap(1000),
		want: "0 1000 1",
	}, {
		name: "full",
		m:    FullMap(1000, []Range{{100000, 65536}, {300000, 10}}),
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

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		m    []IDMap
		want int
	}{
		{"nil", nil, 0},
		{"single", SingleMap(1000), 1},
		{"full", FullMap(1000, []Range{{100000, 65536}}), 65537},
		{"several ranges", FullMap(1000, []Range{{100000, 65536}, {300000, 10}}), 65547},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Size(tt.m); got != tt.want {
				t.Errorf("Size = %d, want %d", got, tt.want)
			}
		})
	}
}
