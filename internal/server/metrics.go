package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// metrics are what GET /metrics exposes, in a registry of the server's own
// (two servers in one process, as in tests, do not share counters). Routes
// are labelled by their template, never by the raw path: IDs would make a
// series per project.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	syncs     *prometheus.HistogramVec
	biCalls   *prometheus.CounterVec
	refreshes *prometheus.CounterVec
}

func newMetrics(st *store.Store) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dbtexposures_http_requests_total",
		Help: "API requests by route template, method and status code."}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dbtexposures_http_request_duration_seconds",
		Help: "API request latency by route template and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.syncs = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dbtexposures_sync_duration_seconds",
		Help: "Exposure syncs by outcome (success or failure), with their duration.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)},
		[]string{"outcome"})
	m.biCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dbtexposures_bi_calls_total",
		Help: "HTTP calls to the BI tools by tool and outcome (2xx, 4xx, 5xx or error)."}, []string{"tool", "outcome"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dbtexposures_refreshes_total",
		Help: "Active exposure refreshes by action (refreshed, skipped, failed)."}, []string{"action"})
	m.registry.MustRegister(m.requests, m.latency, m.syncs, m.biCalls, m.refreshes, poolCollector(st))
	return m
}

// poolCollector exposes the database pool's use.
func poolCollector(st *store.Store) prometheus.Collector {
	open := prometheus.NewDesc("dbtexposures_db_connections_open", "Open database connections.", nil, nil)
	inUse := prometheus.NewDesc("dbtexposures_db_connections_in_use", "Database connections in use.", nil, nil)
	waits := prometheus.NewDesc("dbtexposures_db_connection_waits_total", "Waits for a free database connection.", nil, nil)
	return collectorFunc{descs: []*prometheus.Desc{open, inUse, waits}, collect: func(ch chan<- prometheus.Metric) {
		s := st.Stats()
		ch <- prometheus.MustNewConstMetric(open, prometheus.GaugeValue, float64(s.OpenConnections))
		ch <- prometheus.MustNewConstMetric(inUse, prometheus.GaugeValue, float64(s.InUse))
		ch <- prometheus.MustNewConstMetric(waits, prometheus.CounterValue, float64(s.WaitCount))
	}}
}

type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// handler answers GET /metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// request records an answered request; pattern is the route it matched.
func (m *metrics) request(pattern, method string, code int, took time.Duration) {
	route := pattern
	if _, path, ok := strings.Cut(pattern, " "); ok {
		route = path // the method has its own label
	}
	if route == "" || route == "/" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

// sync records a finished sync.
func (m *metrics) sync(err error, took time.Duration) {
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	m.syncs.WithLabelValues(outcome).Observe(took.Seconds())
}

// countingTransport counts a tool's HTTP calls by outcome.
type countingTransport struct {
	next  http.RoundTripper
	calls *prometheus.CounterVec
	tool  string
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	outcome := "error"
	if err == nil {
		outcome = strconv.Itoa(resp.StatusCode/100) + "xx"
	}
	t.calls.WithLabelValues(t.tool, outcome).Inc()
	return resp, err
}
