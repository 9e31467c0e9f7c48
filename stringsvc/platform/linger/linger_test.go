package linger

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// A server that answers and closes while its client is still sending: on an OnClose
// listener the client's writes still succeed (the rest of its input is read and dropped) and it
// reads the whole answer, then EOF. On a plain listener the unread input makes the kernel reset the
// connection, and the client's write fails: Go's HTTP client then reports the error instead of
// the answer, as the hostile-request test through the gateway showed for a 3 MiB body.
func TestOnCloseDeliversTheAnswerToAClientStillSending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = OnClose(ln)
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		buf := make([]byte, 1024)
		if _, err := io.ReadFull(conn, buf); err != nil { // the request head, say
			served <- err
			return
		}
		_, err = conn.Write([]byte("413 answer"))
		served <- err
		conn.Close() // with most of the body unread
	}()

	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	writeErr := make(chan error, 1)
	go func() {
		_, err := client.Write(bytes.Repeat([]byte("x"), 4<<20)) // more than the socket buffers hold
		writeErr <- err
	}()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the close reach the client before it reads
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, err := io.ReadAll(client)
	if err != nil || string(answer) != "413 answer" {
		t.Fatalf("client read %q, %v; want the whole answer, then EOF", answer, err)
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("the client's write failed: %v", err)
	}
}
