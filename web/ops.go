package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	loginFailures prometheus.Counter
	evidenceBytes prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_http_requests_total", Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_http_request_duration_seconds", Help: "HTTP request latency by route pattern.", Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	m.loginFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_login_failures_total", Help: "Failed or throttled login attempts."})
	m.evidenceBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_evidence_uploaded_bytes_total", Help: "Bytes of evidence accepted."})
	m.reg.MustRegister(m.requests, m.duration, m.loginFailures, m.evidenceBytes, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs each request and records its metrics by route pattern (never by raw path, so IDs
// do not explode the label space).
func (s *Server) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		holder := new(string)
		r = r.WithContext(context.WithValue(r.Context(), routeKey, holder))
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				if rec.code == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			route := *holder
			if route == "" && r.URL.Path != "" && len(r.URL.Path) > 7 && r.URL.Path[:8] == "/static/" {
				route = "GET /static/"
			}
			if route == "" {
				route = "unmatched"
			}
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			s.log.Info("http", "method", r.Method, "route", route, "status", code, "ms", float64(d.Microseconds())/1000)
		}()
		h.ServeHTTP(rec, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.CountUsers(ctx); err != nil {
		s.log.Error("health check failed", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "not answering"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": s.store.Dialect(), "catalog": s.cat.Version, "version": s.cfg.Version})
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
