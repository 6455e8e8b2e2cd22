package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/epicsync/epic/internal/directory"
)

// Metrics are epicd's Prometheus metrics, served at /metrics. The batch
// runner records what it did with JobEnded and BatchDone.
type Metrics struct {
	Registry *prometheus.Registry
	jobs     *prometheus.CounterVec
	rows     *prometheus.CounterVec
	batch    prometheus.Histogram
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

// NewMetrics returns metrics in a registry of their own, with the Go
// runtime's and the process's.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "epicd_jobs_total",
			Help: "Import jobs that reached each status in this process (QUEUED and FAILED at intake; the batch run's outcomes).",
		}, []string{"status"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "epicd_rows_total",
			Help: "Archive rows processed by batch runs in this process, by outcome.",
		}, []string{"outcome"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "epicd_batch_duration_seconds",
			Help:    "How long batch runs took.",
			Buckets: prometheus.ExponentialBuckets(0.05, 3, 10), // 50 ms .. 16 min
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "epicd_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "epicd_http_request_duration_seconds",
			Help:    "How long HTTP requests took, by route.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60},
		}, []string{"route"}),
	}
	reg.MustRegister(m.jobs, m.rows, m.batch, m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// JobEnded counts a job that reached its status, and the outcomes of its
// rows from its summary. The batch runner calls it once a job.
func (m *Metrics) JobEnded(j *directory.Job) {
	m.jobs.WithLabelValues(string(j.Status)).Inc()
	var inserted, updated, adopted, unchanged, removed, mirror, ignored, failed int
	for _, s := range j.Summary {
		inserted += s.Inserted
		updated += s.Updated
		adopted += s.Adopted
		unchanged += s.Unchanged
		removed += s.Removed
		mirror += s.RemovedByMirror
		ignored += s.Ignored
		failed += s.Failed
	}
	for outcome, n := range map[string]int{"INSERTED": inserted, "UPDATED": updated, "ADOPTED": adopted,
		"UNCHANGED": unchanged, "REMOVED": removed, "REMOVED_BY_MIRROR": mirror, "IGNORED": ignored, "FAILED": failed} {
		if n > 0 {
			m.rows.WithLabelValues(outcome).Add(float64(n))
		}
	}
}

// BatchDone records how long one batch run took.
func (m *Metrics) BatchDone(d time.Duration) { m.batch.Observe(d.Seconds()) }

func (m *Metrics) request(route, method string, code int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
	default:
		method = "OTHER" // a client's made-up method must not make a series
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
