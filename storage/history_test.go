package storage

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestHistoryOf(t *testing.T) {
	hist := []v1.History{
		{CreatedBy: "ADD rootfs"},
		{CreatedBy: "ENV A=1", EmptyLayer: true},
		{CreatedBy: "RUN make"},
		{CreatedBy: "RUN more"}, // no layer left for it
	}
	got := historyOf(hist, []int64{100, 20})
	want := []HistoryEntry{
		{History: hist[3]},
		{History: hist[2], Size: 20},
		{History: hist[1]},
		{History: hist[0], Size: 100},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("historyOf = %+v, want %+v", got, want)
	}
}
