package status

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
)

//go:embed page.html.tmpl
var pageSource string

// page renders a Report as a self-contained HTML page: inline style, no script, no external
// asset; it reloads itself every 2 seconds.
var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(seconds *float64) string {
		return (time.Duration(*seconds*10) * time.Second / 10).String() + " ago"
	},
	"time":    func(t time.Time) string { return t.Format("15:04:05.000 UTC") },
	"percent": func(share float64) float64 { return share * 100 },
	"size": func(bytes int64) string {
		switch {
		case bytes%(1<<20) == 0:
			return strconv.FormatInt(bytes>>20, 10) + " MiB"
		case bytes%(1<<10) == 0:
			return strconv.FormatInt(bytes>>10, 10) + " KiB"
		}
		return strconv.FormatInt(bytes, 10) + " B"
	},
}).Parse(pageSource))

// Handler serves the gateway's status: HTML to a browser (an Accept header naming text/html),
// JSON to anything else (curl, monitoring); ?format=json or ?format=html chooses explicitly.
func Handler(routes RoutesSource, board *proxy.StatusBoard, sightings *discovery.Sightings) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		report := Build(routes, board, sightings, time.Now())
		ctx.Response.Header.Set("Cache-Control", "no-store")
		if !wantsHTML(ctx) {
			ctx.SetContentType(edge.JSONContentType)
			_ = json.NewEncoder(ctx).Encode(report) // a Report always encodes; ctx's writer cannot fail
			return
		}
		ctx.SetContentType("text/html; charset=utf-8")
		if err := page.Execute(ctx, report); err != nil {
			ctx.ResetBody()
			ctx.SetStatusCode(http.StatusInternalServerError)
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("rendering the status page: " + err.Error())
		}
	}
}

// wantsHTML chooses the page's format.
func wantsHTML(ctx *fasthttp.RequestCtx) bool {
	switch string(ctx.QueryArgs().Peek("format")) {
	case "json":
		return false
	case "html":
		return true
	}
	return strings.Contains(string(ctx.Request.Header.Peek("Accept")), "text/html")
}
