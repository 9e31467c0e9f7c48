package flagenv

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// The tests that set environment variables use t.Setenv and so cannot run in parallel.

type flags struct {
	fs      *flag.FlagSet
	addr    *string
	timeout *time.Duration
	verbose *bool
	n       *int
}

func newFlags() flags {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return flags{
		fs:      fs,
		addr:    fs.String("addr", ":8080", "listen address"),
		timeout: fs.Duration("timeout", time.Second, "request timeout"),
		verbose: fs.Bool("verbose", false, "log more"),
		n:       fs.Int("n", 1, "count"),
	}
}

func TestApplySetsFlagsFromEnv(t *testing.T) {
	t.Setenv("TEST_ADDR", ":9090")
	t.Setenv("TEST_TIMEOUT", "3s")
	t.Setenv("TEST_VERBOSE", "true")
	f := newFlags()

	err := Apply(f.fs, map[string]string{"addr": "TEST_ADDR", "timeout": "TEST_TIMEOUT", "verbose": "TEST_VERBOSE", "n": "TEST_N_UNSET"})
	if err != nil {
		t.Fatalf("Apply error = %v", err)
	}
	if err := f.fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *f.addr != ":9090" {
		t.Errorf("addr = %q, want :9090 from env", *f.addr)
	}
	if *f.timeout != 3*time.Second {
		t.Errorf("timeout = %v, want 3s from env", *f.timeout)
	}
	if !*f.verbose {
		t.Error("verbose = false, want true from env")
	}
	if *f.n != 1 {
		t.Errorf("n = %d, want the default 1 (its variable is unset)", *f.n)
	}
}

func TestApplyEmptyEnvValueIsSet(t *testing.T) {
	// A variable set to "" is set: a string flag takes the empty value.
	t.Setenv("TEST_ADDR", "")
	f := newFlags()
	if err := Apply(f.fs, map[string]string{"addr": "TEST_ADDR"}); err != nil {
		t.Fatalf("Apply error = %v", err)
	}
	if *f.addr != "" {
		t.Errorf("addr = %q, want \"\" from env", *f.addr)
	}
}

func TestApplyCommandLineWins(t *testing.T) {
	t.Setenv("TEST_ADDR", ":9090")
	t.Setenv("TEST_TIMEOUT", "3s")
	f := newFlags()

	if err := Apply(f.fs, map[string]string{"addr": "TEST_ADDR", "timeout": "TEST_TIMEOUT"}); err != nil {
		t.Fatalf("Apply error = %v", err)
	}
	if err := f.fs.Parse([]string{"-addr", ":7070"}); err != nil {
		t.Fatal(err)
	}
	if *f.addr != ":7070" {
		t.Errorf("addr = %q, want :7070 from the command line", *f.addr)
	}
	if *f.timeout != 3*time.Second {
		t.Errorf("timeout = %v, want 3s from env (not on the command line)", *f.timeout)
	}
}

func TestApplyMalformedValue(t *testing.T) {
	tests := []struct {
		flag, env, value string
	}{
		{flag: "timeout", env: "TEST_TIMEOUT", value: "abc"},
		{flag: "verbose", env: "TEST_VERBOSE", value: "maybe"},
		{flag: "n", env: "TEST_N", value: "one"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			f := newFlags()
			err := Apply(f.fs, map[string]string{tt.flag: tt.env})
			if err == nil {
				t.Fatalf("Apply with %s=%q succeeded, want an error", tt.env, tt.value)
			}
			if !strings.Contains(err.Error(), tt.env) {
				t.Errorf("error %q does not name the variable %s", err, tt.env)
			}
			if !strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q does not quote the value %q", err, tt.value)
			}
		})
	}
}

func TestApplyUnknownFlag(t *testing.T) {
	t.Parallel() // sets no variable
	f := newFlags()
	err := Apply(f.fs, map[string]string{"nope": "TEST_NOPE"})
	if err == nil {
		t.Fatal("Apply with an unknown flag succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "TEST_NOPE") {
		t.Errorf("error %q should name the flag and the variable", err)
	}
}

func TestApplyUsage(t *testing.T) {
	t.Parallel() // sets no variable: usage changes whether or not the variable is set
	f := newFlags()
	if err := Apply(f.fs, map[string]string{"addr": "TEST_ADDR_USAGE", "timeout": "TEST_TIMEOUT_USAGE"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"addr":    "listen address (env TEST_ADDR_USAGE)",
		"timeout": "request timeout (env TEST_TIMEOUT_USAGE)",
		"verbose": "log more",
	} {
		if got := f.fs.Lookup(name).Usage; got != want {
			t.Errorf("-%s usage = %q, want %q", name, got, want)
		}
	}

	var out strings.Builder
	f.fs.SetOutput(&out)
	f.fs.PrintDefaults()
	if !strings.Contains(out.String(), "(env TEST_ADDR_USAGE)") {
		t.Errorf("PrintDefaults output lacks the variable:\n%s", out.String())
	}
}

func TestApplyEmptyMap(t *testing.T) {
	t.Parallel()
	f := newFlags()
	if err := Apply(f.fs, nil); err != nil {
		t.Errorf("Apply(nil) error = %v", err)
	}
	if *f.addr != ":8080" {
		t.Errorf("addr = %q, want default", *f.addr)
	}
}

func TestNomadAddrNeedsBothVariables(t *testing.T) {
	t.Setenv("NOMAD_IP_http", "10.1.2.3")
	t.Setenv("NOMAD_PORT_http", "")
	if addr, ok := NomadAddr("http"); ok {
		t.Fatalf("only the IP set: got %q, want none", addr)
	}
	t.Setenv("NOMAD_PORT_http", "31000")
	if addr, ok := NomadAddr("http"); !ok || addr != "10.1.2.3:31000" {
		t.Fatalf("got %q %v, want 10.1.2.3:31000", addr, ok)
	}
	t.Setenv("NOMAD_IP_http", "::1")
	if addr, _ := NomadAddr("http"); addr != "[::1]:31000" {
		t.Fatalf("IPv6: got %q, want [::1]:31000", addr)
	}
}

func TestParseAppliesTheEnvironmentThenTheArguments(t *testing.T) {
	t.Setenv("FLAGENV_TEST_A", "from-env")
	t.Setenv("FLAGENV_TEST_B", "from-env")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	a, b := fs.String("a", "default", ""), fs.String("b", "default", "")
	if err := Parse(fs, []string{"-b", "from-args"}, map[string]string{"a": "FLAGENV_TEST_A", "b": "FLAGENV_TEST_B"}); err != nil {
		t.Fatal(err)
	}
	if *a != "from-env" || *b != "from-args" {
		t.Fatalf("a=%q b=%q, want from-env from-args", *a, *b)
	}
}

func TestListenAddrPrecedence(t *testing.T) {
	parse := func(args ...string) string {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("listen", "127.0.0.1:0", "")
		if err := Parse(fs, args, map[string]string{"listen": "FLAGENV_TEST_LISTEN"}); err != nil {
			t.Fatal(err)
		}
		return ListenAddr(fs, "listen", "http")
	}
	t.Setenv("NOMAD_IP_http", "")
	t.Setenv("NOMAD_PORT_http", "")
	if got := parse(); got != "127.0.0.1:0" {
		t.Errorf("nothing set: got %q, want the default", got)
	}
	t.Setenv("NOMAD_IP_http", "10.1.2.3")
	t.Setenv("NOMAD_PORT_http", "31000")
	if got := parse(); got != "10.1.2.3:31000" {
		t.Errorf("under Nomad: got %q, want Nomad's address", got)
	}
	if got := parse("-listen", "0.0.0.0:31000"); got != "0.0.0.0:31000" {
		t.Errorf("flag under Nomad: got %q, want the flag", got)
	}
	t.Setenv("FLAGENV_TEST_LISTEN", "0.0.0.0:8080")
	if got := parse(); got != "0.0.0.0:8080" {
		t.Errorf("variable under Nomad: got %q, want the variable", got)
	}
}

func TestCheckConsulAddress(t *testing.T) {
	for _, addr := range []string{
		"", "127.0.0.1:8500", "localhost:8500", "[::1]:8500", "http://127.0.0.1:8500",
		"https://consul.example:8501/", "unix:///run/consul/http.sock",
	} {
		if err := CheckConsulAddress(addr); err != nil {
			t.Errorf("CheckConsulAddress(%q) = %v, want nil", addr, err)
		}
	}
	for _, addr := range []string{
		"127.0.0.1", "127.0.0.1:notaport", "127.0.0.1:0", "127.0.0.1:70000", "ftp://consul:21",
		"unix://", "a b:8500", "http://[::1", "user@consul:8500",
	} {
		err := CheckConsulAddress(addr)
		if err == nil || !strings.Contains(err.Error(), "CONSUL_HTTP_ADDR=") || strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckConsulAddress(%q) = %v, want one line naming CONSUL_HTTP_ADDR", addr, err)
		}
	}
}

// A bad flag is an error and nothing else: the binaries print it as their one line.
func TestParseBadFlagPrintsNothing(t *testing.T) {
	stderr := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	f := newFlags()
	f.fs.SetOutput(nil) // as a binary's flag set: the default output, os.Stderr
	parseErr := Parse(f.fs, []string{"-n", "many"}, nil)
	os.Stderr = stderr
	w.Close()
	printed, _ := io.ReadAll(r)
	if parseErr == nil || strings.Contains(parseErr.Error(), "\n") {
		t.Errorf("Parse error = %v, want one line", parseErr)
	}
	if len(printed) > 0 {
		t.Errorf("Parse printed %q, want nothing", printed)
	}
}
