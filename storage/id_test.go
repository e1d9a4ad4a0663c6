package storage

import (
	"encoding/hex"
	"testing"
)

// TestNewID: IDs are 64 hex digits, as Docker's, and differ.
func TestNewID(t *testing.T) {
	a, err := NewID()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewID()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hex.DecodeString(a); err != nil || len(a) != 64 || a == b {
		t.Errorf("NewID gave %q then %q", a, b)
	}
}
