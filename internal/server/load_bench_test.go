package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
)

// BenchmarkLoad32Accounts is 32 accounts' clients at once, each writing an
// environment variable then reading its projects, over and over: the
// server's throughput and 99th-percentile latency, on SQLite and on
// PostgreSQL (two replicas, the accounts spread over them).
func BenchmarkLoad32Accounts(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		srv := servertest.NewOn(b, filepath.Join(b.TempDir(), "load.db"), nil)
		benchLoad(b, []*servertest.Server{srv})
	})
	b.Run("postgres-2-replicas", func(b *testing.B) {
		dsn := pgtest.NewDurableCluster(b).DSN(b) // fsync on, as SQLite's synchronous=FULL
		benchLoad(b, []*servertest.Server{servertest.NewOn(b, dsn, nil), servertest.NewOn(b, dsn, nil)})
	})
}

type loadClient struct {
	url, token string
}

func benchLoad(b *testing.B, replicas []*servertest.Server) {
	var clients []loadClient
	for i := range 32 {
		acct, pid, tok, err := replicas[0].Store.CreateAccount(context.Background(), fmt.Sprint("load-", i))
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, loadClient{fmt.Sprintf("%s/v3/accounts/%d/projects/%d/", replicas[i%len(replicas)].HostURL, acct, pid), tok})
	}
	const perClient = 25 // pairs of requests per client per iteration
	var mu sync.Mutex
	var latencies []time.Duration
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := loadRequests(b, c, n, perClient)
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "requests/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

// loadRequests is one client's share: a write and a read, perClient times.
func loadRequests(b *testing.B, c loadClient, n, perClient int) []time.Duration {
	var out []time.Duration
	for i := range perClient {
		for _, req := range []*http.Request{
			newReq("POST", c.url+"environment-variables/bulk/", c.token, fmt.Sprintf(`{"env_var": {"new_name": "DBT_LOAD_%d_%d", "project": "x"}}`, n, i)),
			newReq("GET", c.url+"environments/", c.token, ""),
		} {
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode/100 != 2 {
				b.Errorf("%s %s: %v %v", req.Method, req.URL.Path, err, resp)
				return out
			}
			resp.Body.Close()
			out = append(out, time.Since(start))
		}
	}
	return out
}

func newReq(method, url, token, body string) *http.Request {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Token "+token)
	return req
}
