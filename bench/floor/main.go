// Command floor is the benchmark's reference proxy: the thinnest reverse proxy that Go and
// fasthttp make, with none of the gateway's resilience (no discovery, retries, breakers, hedges,
// admission, metrics or logs), so that bench/run.sh shows, in the same run, the cost per request
// that a Go/fasthttp gateway cannot go below on that machine. A benchmark reference only: never
// deploy it.
//
// Usage: floor -listen 127.0.0.1:8084 -backends 127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103
//
// /stringsvc/X is sent to /X of the next backend (round-robin), method, headers and body as they
// came; an error answers 502 with its text, any other path 404.
package main

import (
	"bytes"
	"flag"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

const prefix = "/stringsvc"

func main() {
	listen := flag.String("listen", "127.0.0.1:8084", "host:port to listen on")
	backends := flag.String("backends", "", "comma-separated host:port of the backends")
	flag.Parse()
	var clients []*fasthttp.HostClient
	for _, addr := range strings.Split(*backends, ",") {
		if addr = strings.TrimSpace(addr); addr != "" {
			clients = append(clients, &fasthttp.HostClient{
				Addr:                      addr,
				MaxConns:                  512, // the gateway's -max-conns-per-instance
				MaxIdemponentCallAttempts: 1,   // no retries, not even of a GET
				ReadTimeout:               3 * time.Second,
				WriteTimeout:              3 * time.Second,
			})
		}
	}
	if len(clients) == 0 {
		log.Fatal("floor: -backends lists no host:port")
	}
	var next atomic.Uint64
	handler := func(ctx *fasthttp.RequestCtx) {
		path := ctx.Path()
		if !bytes.HasPrefix(path, []byte(prefix+"/")) {
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		ctx.Request.CopyTo(req)
		req.URI().SetPathBytes(path[len(prefix):])
		client := clients[(next.Add(1)-1)%uint64(len(clients))]
		if err := client.Do(req, &ctx.Response); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
		}
	}
	server := &fasthttp.Server{
		Handler:            handler,
		MaxRequestBodySize: 2 << 20, // the scale-body runs' bodies (up to 1 MiB) pass
		ReadTimeout:        10 * time.Second,
		WriteTimeout:       10 * time.Second,
	}
	log.Fatal(server.ListenAndServe(*listen))
}
