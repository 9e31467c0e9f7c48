package main

import (
	"testing"
	"time"
)

func TestFaultsFromFlagsAndEnvironment(t *testing.T) {
	t.Setenv("GRAYSVC_ERROR_SHARE", "0.3")
	t.Setenv("GRAYSVC_DELAY", "1s") // the flag wins
	c, err := parseConfig([]string{"-delay", "50ms", "-delay-share", "0.1", "-stall-every", "800ms", "-stall-for", "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	want := faults{delay: 50 * time.Millisecond, delayShare: 0.1, errorShare: 0.3, stallEvery: 800 * time.Millisecond, stallFor: 300 * time.Millisecond}
	if c.faults != want || c.service != "stringsvc" || c.drain != 0 {
		t.Fatalf("faults %+v service %q drain %v, want %+v stringsvc 0s", c.faults, c.service, c.drain, want)
	}
}

func TestBadConfigIsAnError(t *testing.T) {
	for _, args := range [][]string{
		{"-delay", "-1ms"}, {"-delay-share", "1.5"}, {"-error-share", "-0.1"}, {"-error-share", "NaN"},
		{"-stall-every", "1s"}, {"-stall-for", "1s"}, {"-stall-every", "1s", "-stall-for", "1s"},
		{"-stall-every", "-1s", "-stall-for", "-2s"}, {"-drain", "-1s"}, {"-resync", "0s"},
	} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
