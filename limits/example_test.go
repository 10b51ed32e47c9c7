package limits_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/pingora-go/pingora/limits"
)

// maxReqPerSec is the per-appid limit of the rate-limiter recipe.
const maxReqPerSec = 1

// rateLimit is Pingora's rate-limiter recipe as net/http middleware: requests
// are counted per value of the appid header over one-second intervals, and a
// client over the limit gets 429 with X-Rate-Limit-* headers and the
// connection closed. Requests without an appid pass unlimited.
func rateLimit(limiter *limits.Rate, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID := r.Header.Get("appid")
		if appID == "" {
			next.ServeHTTP(w, r)
			return
		}
		if limiter.Observe(appID, 1) > maxReqPerSec {
			h := w.Header()
			h.Set("X-Rate-Limit-Limit", strconv.Itoa(maxReqPerSec))
			h.Set("X-Rate-Limit-Remaining", "0")
			h.Set("X-Rate-Limit-Reset", "1")
			h.Set("Connection", "close") // Pingora turns keep-alive off
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ExampleRate_Observe() {
	limiter, err := limits.NewRate(time.Second, limits.Options{})
	if err != nil {
		panic(err)
	}
	app := rateLimit(limiter, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))

	for _, appID := range []string{"1", "1", "2", ""} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if appID != "" {
			req.Header.Set("appid", appID)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		res := rec.Result()
		fmt.Printf("appid=%q: %d limit=%q remaining=%q reset=%q\n", appID, res.StatusCode,
			res.Header.Get("X-Rate-Limit-Limit"), res.Header.Get("X-Rate-Limit-Remaining"),
			res.Header.Get("X-Rate-Limit-Reset"))
	}
	// Output:
	// appid="1": 200 limit="" remaining="" reset=""
	// appid="1": 429 limit="1" remaining="0" reset="1"
	// appid="2": 200 limit="" remaining="" reset=""
	// appid="": 200 limit="" remaining="" reset=""
}

func ExampleRate_RateWith() {
	r, err := limits.NewRate(time.Second, limits.Options{})
	if err != nil {
		panic(err)
	}
	t0 := time.Now()
	r.ObserveAt("client", 10, t0) // 10 events in the first second
	t1 := t0.Add(1250 * time.Millisecond)
	r.ObserveAt("client", 4, t1) // rolls over; 4 events so far in the second
	// A quarter into the second interval (its clock started at t1):
	est := r.RateWithAt("client", t1.Add(250*time.Millisecond), limits.ProportionalRateEstimate)
	fmt.Printf("last second: %.0f/s, sliding window: %.1f/s\n", r.RateAt("client", t1), est)
	// Output:
	// last second: 10/s, sliding window: 11.5/s
}

func ExampleInflight() {
	inflight, err := limits.NewInflight(limits.Options{})
	if err != nil {
		panic(err)
	}
	g1, n := inflight.Incr("upstream-a", 1)
	fmt.Println("in flight:", n)
	g2, n := inflight.Incr("upstream-a", 1)
	fmt.Println("in flight:", n)
	g1.Release()
	g1.Release() // idempotent
	fmt.Println("after one release:", inflight.Get("upstream-a"))
	g2.Release()
	fmt.Println("after both:", inflight.Get("upstream-a"))
	// Output:
	// in flight: 1
	// in flight: 2
	// after one release: 1
	// after both: 0
}

func ExampleEstimator() {
	e, err := limits.NewEstimator(4, 1024)
	if err != nil {
		panic(err)
	}
	e.Incr("GET /", 3)
	e.IncrBytes([]byte("GET /"), 2)
	e.Decr("GET /", 1)
	fmt.Println(e.Get("GET /"), e.Get("never seen"))
	// Output:
	// 4 0
}
