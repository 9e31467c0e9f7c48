package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// SlowClients checks that clients that send slowly or not at all cannot hold the server at addr
// (host:port), whose read timeout (head and body) and idle timeout are both readTimeout:
//   - 50 slowloris connections, each sending its request head a byte at a time, and 10 sending
//     a body a byte at a time, are all closed by the server after about readTimeout;
//   - meanwhile a well-behaved client gets its answers;
//   - a keep-alive connection left idle after a request is closed after about readTimeout.
//
// Every slow client stops by itself after 20 × readTimeout (the test fails then).
func SlowClients(t testing.TB, addr string, readTimeout time.Duration) {
	t.Helper()
	giveUp := 20 * readTimeout
	heads := strings.Repeat("X-Slow: "+strings.Repeat("a", 64)+"\r\n", 1000) // never finished in time
	var wg sync.WaitGroup
	closed := make(chan time.Duration, 60)
	slow := func(prefix, trickle string) {
		defer wg.Done()
		begin := time.Now()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("dial: %v", err)
			return
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, prefix); err != nil {
			t.Errorf("writing the request's start: %v", err)
			return
		}
		done := make(chan struct{})
		go func() { // the reader: the server's answer (if any) and then its close
			defer close(done)
			_ = conn.SetReadDeadline(begin.Add(giveUp))
			_, _ = io.Copy(io.Discard, conn)
		}()
		for i := 0; i < len(trickle); i++ {
			select {
			case <-done:
				closed <- time.Since(begin)
				return
			case <-time.After(readTimeout / 20):
			}
			if _, err := conn.Write([]byte{trickle[i]}); err != nil {
				break // the server closed the connection
			}
		}
		<-done
		closed <- time.Since(begin)
	}
	for range 50 {
		wg.Add(1)
		go slow("POST "+contract.UppercasePath+" HTTP/1.1\r\nHost: slow\r\n", heads)
	}
	for range 10 {
		wg.Add(1)
		go slow("POST "+contract.UppercasePath+" HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
			`{"s":"`+strings.Repeat("a", 99990)+`"}`)
	}

	// A well-behaved client, while the slow ones hold their connections.
	client := &http.Client{Timeout: giveUp}
	for i := range 5 {
		resp, err := client.Post("http://"+addr+contract.UppercasePath, contract.JSONContentType, strings.NewReader(`{"s":"fine"}`))
		if err != nil {
			t.Errorf("request %d beside the slow clients: %v", i, err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("request %d beside the slow clients: status %d", i, resp.StatusCode)
		}
	}
	client.CloseIdleConnections()

	wg.Wait()
	close(closed)
	var longest time.Duration
	for d := range closed {
		if d >= giveUp {
			t.Errorf("a slow client was not cut off within %v", giveUp)
		}
		longest = max(longest, d)
	}
	if longest < readTimeout {
		t.Errorf("the slow clients were cut off after %v at most, before the read timeout %v: refused, not timed out?", longest, readTimeout)
	}

	idleClosed(t, addr, readTimeout)
}

// idleClosed checks that the server closes a keep-alive connection that stays idle after a
// request, after about timeout.
func idleClosed(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	body := `{"s":"idle"}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: idle\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		contract.UppercasePath, len(body), body)
	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("answer on the keep-alive connection: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	begin := time.Now()
	_ = conn.SetReadDeadline(begin.Add(20 * timeout))
	if _, err := reader.ReadByte(); err != io.EOF {
		t.Errorf("idle keep-alive connection: read gave %v after %v, want EOF (closed by the server)", err, time.Since(begin))
	}
}

// HeadFlood checks that a request whose head is over maxHeaderBytes is refused with a 431
// (with the contract's JSON error when jsonBody is set; Go's net/http writes its own plain text).
func HeadFlood(t testing.TB, base string, maxHeaderBytes int, jsonBody bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+contract.UppercasePath, strings.NewReader(`{"s":"flood"}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i*100 < 2*maxHeaderBytes; i++ {
		req.Header.Add(fmt.Sprintf("X-Flood-%d", i), strings.Repeat("f", 80))
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("header flood: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("header flood: answered %d %.100s, want 431", resp.StatusCode, body)
	}
	if jsonBody && resp.Header.Get("Content-Type") != contract.JSONContentType {
		t.Errorf("header flood: Content-Type %q, want %q", resp.Header.Get("Content-Type"), contract.JSONContentType)
	}
}
