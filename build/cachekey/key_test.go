package cachekey

import "testing"

func TestKey(t *testing.T) {
	a := Key("p", "RUN", "x")
	for _, tc := range []struct {
		name string
		key  string
		same bool
	}{
		{"same inputs", Key("p", "RUN", "x"), true},
		{"other parent", Key("q", "RUN", "x"), false},
		{"other instruction", Key("p", "RUN", "y"), false},
		{"parts are not concatenated", Key("p", "RU", "Nx"), false},
		{"an extra empty part counts", Key("p", "RUN", "x", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.key == a) != tc.same {
				t.Errorf("Key = %s, first key %s, want same=%v", tc.key, a, tc.same)
			}
		})
	}
	if len(a) != 64 {
		t.Errorf("key %q is not 64 hex digits", a)
	}
	if Base("abc", "linux/amd64") == Base("abc", "linux/arm64") {
		t.Error("the platform does not change the base key")
	}
}
