package storage

import (
	"encoding/hex"
	"testing"
)

// TestNewID: IDs are 64 hex digits, as Docker's, and differ.
func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if _, err := hex.DecodeString(a); err != nil || len(a) != 64 || a == b {
		t.Errorf("NewID gave %q then %q", a, b)
	}
}
