// Package linger closes server connections gently, the way nginx's lingering close does, so that
// a client still sending a body the server refused gets the answer instead of a reset. Both
// stringsvc and the gateway serve on such a listener.
package linger

import (
	"io"
	"net"
	"sync"
	"time"
)

// How long, and how much, a closing connection keeps reading what its client still sends.
const (
	lingerTime  = time.Second
	lingerBytes = 16 << 20
)

// OnClose wraps ln so that the connections the server closes close the way nginx's lingering
// close does: the answer goes out and the write side is shut (FIN) at once, then what the client
// still sends is read and dropped — for at most lingerTime and lingerBytes, in a goroutine of its
// own — before the socket is closed. Closing a socket with unread input makes the kernel send a
// reset, and a client still writing a body the server refused (a 413 for a body over the limit)
// would see its write fail, and Go's HTTP client then reports that error instead of the 413.
func OnClose(ln net.Listener) net.Listener { return lingeringListener{ln} }

type lingeringListener struct{ net.Listener }

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		return &lingeringConn{TCPConn: tcp}, nil
	}
	return c, nil
}

type lingeringConn struct {
	*net.TCPConn
	once sync.Once
}

// Close shuts the write side and returns; the rest happens in the background. net/http shuts the
// write side itself before it closes: shutting it again is harmless.
func (c *lingeringConn) Close() error {
	c.once.Do(func() {
		if c.CloseWrite() != nil {
			_ = c.TCPConn.Close() // the connection is gone already: nothing to linger for
			return
		}
		go c.drainAndClose()
	})
	return nil
}

func (c *lingeringConn) drainAndClose() {
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c.TCPConn, lingerBytes)
	_ = c.TCPConn.Close()
}
