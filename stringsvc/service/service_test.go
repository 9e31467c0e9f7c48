package service

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestUppercase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{name: "ascii", in: "foo", want: "FOO"},
		{name: "mixed", in: "Hello, World 42", want: "HELLO, WORLD 42"},
		{name: "already upper", in: "ABC", want: "ABC"},
		{name: "unicode sharp s", in: "straße", want: strings.ToUpper("straße")},
		{name: "unicode accents", in: "héllo", want: "HÉLLO"},
		{name: "empty", in: "", wantErr: ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := New().Uppercase(context.Background(), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Uppercase(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Uppercase(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{in: "", want: 0},
		{in: "a", want: 1},
		{in: "hello", want: 5},
		{in: "héllo", want: 5}, // 6 bytes, 5 runes
		{in: "日本語", want: 3},   // 9 bytes
		{in: "straße", want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := New().Count(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("Count(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Count(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// recorder collects the order in which recording middlewares see calls.
type recorder struct{ events []string }

func (r *recorder) middleware(name string) Middleware {
	return func(next Service) Service { return recordingService{name: name, rec: r, next: next} }
}

type recordingService struct {
	name string
	rec  *recorder
	next Service
}

func (s recordingService) Uppercase(ctx context.Context, in string) (string, error) {
	s.rec.events = append(s.rec.events, s.name+" before")
	defer func() { s.rec.events = append(s.rec.events, s.name+" after") }()
	return s.next.Uppercase(ctx, in)
}

func (s recordingService) Count(ctx context.Context, in string) (int, error) {
	s.rec.events = append(s.rec.events, s.name+" before")
	defer func() { s.rec.events = append(s.rec.events, s.name+" after") }()
	return s.next.Count(ctx, in)
}

func TestNewAppliesMiddlewaresFirstOutermost(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	svc := New(rec.middleware("first"), rec.middleware("second"))

	got, err := svc.Uppercase(context.Background(), "abc")
	if err != nil || got != "ABC" {
		t.Fatalf("Uppercase = %q, %v; want \"ABC\", nil", got, err)
	}
	want := []string{"first before", "second before", "second after", "first after"}
	if !reflect.DeepEqual(rec.events, want) {
		t.Errorf("Uppercase call order = %v, want %v", rec.events, want)
	}

	rec.events = nil
	n, err := svc.Count(context.Background(), "abc")
	if err != nil || n != 3 {
		t.Fatalf("Count = %d, %v; want 3, nil", n, err)
	}
	if !reflect.DeepEqual(rec.events, want) {
		t.Errorf("Count call order = %v, want %v", rec.events, want)
	}
}

func TestNewWithoutMiddlewares(t *testing.T) {
	t.Parallel()
	if _, ok := New().(stringService); !ok {
		t.Errorf("New() = %T, want the plain stringService", New())
	}
}
