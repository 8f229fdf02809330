package main

import "testing"

func TestHelpUnknownCheck(t *testing.T) {
	if got := help([]string{"nosuchcheck"}); got != 2 {
		t.Errorf("help(nosuchcheck) = %d, want 2", got)
	}
	if got := help([]string{"readmodifywrite", "checkthenact"}); got != 0 {
		t.Errorf("help(readmodifywrite checkthenact) = %d, want 0", got)
	}
}
