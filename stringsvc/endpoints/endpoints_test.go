package endpoints

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/service"
)

// The Set built by New is itself a Service that behaves like the one it wraps.
func TestSetRoundTrip(t *testing.T) {
	t.Parallel()
	var svc service.Service = New(service.New())
	ctx := context.Background()

	upper := []struct {
		in, want string
		wantErr  error
	}{
		{in: "foo", want: "FOO"},
		{in: "straße", want: strings.ToUpper("straße")},
		{in: "", wantErr: service.ErrEmpty},
	}
	for _, tt := range upper {
		got, err := svc.Uppercase(ctx, tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("Uppercase(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for in, want := range map[string]int{"": 0, "abc": 3, "héllo": 5} {
		got, err := svc.Count(ctx, in)
		if err != nil || got != want {
			t.Errorf("Count(%q) = %d, %v; want %d, nil", in, got, err, want)
		}
	}
}

// A domain error travels inside the response, not as the endpoint's error, so go-kit's
// server hands it to the response encoder (and from there to the error encoder).
func TestMakeEndpointsCarryDomainErrorInResponse(t *testing.T) {
	t.Parallel()
	set := New(service.New())
	resp, err := set.UppercaseEndpoint(context.Background(), contract.UppercaseRequest{S: ""})
	if err != nil {
		t.Fatalf("endpoint error = %v, want nil (the error belongs in the response)", err)
	}
	r, ok := resp.(contract.UppercaseResponse)
	if !ok || !errors.Is(r.Failed(), service.ErrEmpty) {
		t.Errorf("response = %#v, want UppercaseResponse failing with ErrEmpty", resp)
	}

	resp, err = set.CountEndpoint(context.Background(), contract.CountRequest{S: "abc"})
	if c, ok := resp.(contract.CountResponse); err != nil || !ok || c.V != 3 || c.Failed() != nil {
		t.Errorf("CountEndpoint = %#v, %v; want CountResponse{V: 3}, nil", resp, err)
	}
}

// failingService fails every call.
type failingService struct{ err error }

func (f failingService) Uppercase(context.Context, string) (string, error) { return "", f.err }
func (f failingService) Count(context.Context, string) (int, error)        { return 0, f.err }

func TestSetPassesServiceErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	set := New(failingService{err: boom})
	if _, err := set.Uppercase(context.Background(), "x"); !errors.Is(err, boom) {
		t.Errorf("Uppercase error = %v, want %v", err, boom)
	}
	if _, err := set.Count(context.Background(), "x"); !errors.Is(err, boom) {
		t.Errorf("Count error = %v, want %v", err, boom)
	}
}

func TestSetEndpointError(t *testing.T) {
	t.Parallel()
	boom := errors.New("transport down")
	fail := func(context.Context, any) (any, error) { return nil, boom }
	set := Set{UppercaseEndpoint: fail, CountEndpoint: fail}

	if got, err := set.Uppercase(context.Background(), "x"); !errors.Is(err, boom) || got != "" {
		t.Errorf("Uppercase = %q, %v; want \"\", %v", got, err, boom)
	}
	if got, err := set.Count(context.Background(), "x"); !errors.Is(err, boom) || got != 0 {
		t.Errorf("Count = %d, %v; want 0, %v", got, err, boom)
	}
}

func TestSetUnexpectedResponseType(t *testing.T) {
	t.Parallel()
	// Each endpoint answers with the other one's response type.
	set := Set{
		UppercaseEndpoint: func(context.Context, any) (any, error) { return contract.CountResponse{V: 1}, nil },
		CountEndpoint:     func(context.Context, any) (any, error) { return contract.UppercaseResponse{V: "X"}, nil },
	}

	got, err := set.Uppercase(context.Background(), "x")
	if err == nil || got != "" {
		t.Fatalf("Uppercase = %q, %v; want \"\" and an error", got, err)
	}
	if !strings.Contains(err.Error(), "uppercase") || !strings.Contains(err.Error(), "contract.CountResponse") {
		t.Errorf("Uppercase error = %q, want it to name the method and the response type", err)
	}

	n, err := set.Count(context.Background(), "x")
	if err == nil || n != 0 {
		t.Fatalf("Count = %d, %v; want 0 and an error", n, err)
	}
	if !strings.Contains(err.Error(), "count") || !strings.Contains(err.Error(), "contract.UppercaseResponse") {
		t.Errorf("Count error = %q, want it to name the method and the response type", err)
	}

	// A nil response is unexpected too.
	nilSet := Set{
		UppercaseEndpoint: func(context.Context, any) (any, error) { return nil, nil },
		CountEndpoint:     func(context.Context, any) (any, error) { return nil, nil },
	}
	if _, err := nilSet.Uppercase(context.Background(), "x"); err == nil {
		t.Error("Uppercase with a nil response succeeded, want an error")
	}
	if _, err := nilSet.Count(context.Background(), "x"); err == nil {
		t.Error("Count with a nil response succeeded, want an error")
	}
}

// The Set sends the request type its server-side endpoint expects.
func TestSetSendsContractRequests(t *testing.T) {
	t.Parallel()
	var gotUpper, gotCount any
	set := Set{
		UppercaseEndpoint: func(_ context.Context, req any) (any, error) {
			gotUpper = req
			return contract.UppercaseResponse{V: "A"}, nil
		},
		CountEndpoint: func(_ context.Context, req any) (any, error) {
			gotCount = req
			return contract.CountResponse{V: 1}, nil
		},
	}
	_, _ = set.Uppercase(context.Background(), "a")
	_, _ = set.Count(context.Background(), "b")
	if gotUpper != (contract.UppercaseRequest{S: "a"}) {
		t.Errorf("Uppercase sent %#v, want UppercaseRequest{S: \"a\"}", gotUpper)
	}
	if gotCount != (contract.CountRequest{S: "b"}) {
		t.Errorf("Count sent %#v, want CountRequest{S: \"b\"}", gotCount)
	}
}
