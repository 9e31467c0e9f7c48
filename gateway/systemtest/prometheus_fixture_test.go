//go:build integration

package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// prometheusAPI is the HTTP API of a real Prometheus (the one nomad/prometheus.nomad runs).
type prometheusAPI struct{ url string }

// promTarget is an active scrape target.
type promTarget struct {
	Labels    map[string]string `json:"labels"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
	ScrapeURL string            `json:"scrapeUrl"`
}

// promSample is one series of an instant query's vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [time, "value"]
}

// promAlert is an active (pending or firing) alert.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// get decodes the data of the API's answer to path into v; a failed answer is an error with
// Prometheus' reason (a query that does not parse, say).
func (p *prometheusAPI) get(path string, v any) error {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(p.url + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("GET %s: %d, %w", path, resp.StatusCode, err)
	}
	if answer.Status != "success" {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, answer.Error)
	}
	return json.Unmarshal(answer.Data, v)
}

func (p *prometheusAPI) targets() ([]promTarget, error) {
	var data struct {
		ActiveTargets []promTarget `json:"activeTargets"`
	}
	err := p.get("/api/v1/targets?state=active", &data)
	return data.ActiveTargets, err
}

// query runs an instant query and returns its vector (an error if the result is not one).
func (p *prometheusAPI) query(expr string) ([]promSample, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := p.get("/api/v1/query?query="+url.QueryEscape(expr), &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("%s: a %s, want a vector", expr, data.ResultType)
	}
	return data.Result, nil
}

func (p *prometheusAPI) alerts() ([]promAlert, error) {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := p.get("/api/v1/alerts", &data)
	return data.Alerts, err
}

// alertState returns the state of the alert named name whose labels include labels: "pending",
// "firing", or "" when it is not active.
func (p *prometheusAPI) alertState(t *testing.T, name string, labels map[string]string) string {
	t.Helper()
	alerts, err := p.alerts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.Labels["alertname"] != name {
			continue
		}
		matches := true
		for k, v := range labels {
			matches = matches && a.Labels[k] == v
		}
		if matches {
			return a.State
		}
	}
	return ""
}

// upByJob returns how many active targets of each job are up, and how many there are.
func upByJob(targets []promTarget) (up, all map[string]int) {
	up, all = map[string]int{}, map[string]int{}
	for _, tg := range targets {
		all[tg.Labels["job"]]++
		if tg.Health == "up" {
			up[tg.Labels["job"]]++
		}
	}
	return up, all
}

// instancesOf returns the sorted instance labels of job's active targets.
func instancesOf(targets []promTarget, job string) []string {
	var out []string
	for _, tg := range targets {
		if tg.Labels["job"] == job {
			out = append(out, tg.Labels["instance"])
		}
	}
	slices.Sort(out)
	return out
}

// promtool runs promtool with args (and stdin, if not empty) and fails the test unless it
// succeeds and prints no warning.
func promtool(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bins.promtool, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(out)), "warning") {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dashboardQueries returns every PromQL expression ("expr") of the Grafana dashboard at path.
func dashboardQueries(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if expr, ok := v["expr"].(string); ok {
				exprs = append(exprs, expr)
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(dashboard)
	return exprs
}
