package tableautest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// childEnv, set in a test binary's environment, makes it serve a generated
// site (the options, as JSON) instead of running tests.
const childEnv = "DBTEXPOSURES_BENCH_EMULATOR"

// lastAnswerPath is where a child emulator says when it last answered.
const lastAnswerPath = "/__bench/last-answer"

// child is what the child process is told: the site and its latency.
type child struct {
	Site    emulator.GenerateOptions
	Latency time.Duration
}

// ServeChild serves the site when this process was started by Child, until
// its input closes, and reports true; TestMain calls it first.
func ServeChild() bool {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return false
	}
	var c child
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Println("error", err)
		return true
	}
	emu, err := emulator.New(emulator.Generate(c.Site))
	if err != nil {
		fmt.Println("error", err)
		return true
	}
	emu.Latency = c.Latency
	mux := http.NewServeMux()
	mux.HandleFunc(lastAnswerPath, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, emu.LastAnswer().UnixNano())
	})
	mux.Handle("/", emu)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return true
}

// Child starts this test binary again as an emulator of the generated site,
// so that the site's fixture and answers do not share the measured heap and
// collector. It returns the site's URL and when it last answered.
func Child(tb testing.TB, site emulator.GenerateOptions, latency time.Duration) (string, func() time.Time) {
	tb.Helper()
	spec, _ := json.Marshal(child{site, latency})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		tb.Fatalf("the emulator process did not start: %v %q", err, line)
	}
	url := strings.TrimSpace(line)
	return url, func() time.Time {
		resp, err := http.Get(url + lastAnswerPath)
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ns, _ := strconv.ParseInt(string(b), 10, 64)
		return time.Unix(0, ns)
	}
}
