package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// readmeSection is the README's text from the line that starts with start.
func readmeSection(t *testing.T, start string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), start)
	if !ok {
		t.Fatalf("README.md has no %q", start)
	}
	return section
}

// recipeCall is one curl of a README recipe: its method and the path after $project/.
type recipeCall struct{ method, path string }

// ciRecipe reads the README's run-results CI recipe: its curl calls in order,
// each of which must fail the step yet print the server's answer.
func ciRecipe(t *testing.T) (calls []recipeCall, envID string) {
	t.Helper()
	_, block, _ := strings.Cut(readmeSection(t, "In CI, after `dbt build`"), "```sh\n")
	block, _, _ = strings.Cut(block, "```\n")
	for _, cmd := range regexp.MustCompile(`(?s)curl .*?"\$project/([^"]+)"`).FindAllString(block, -1) {
		if !strings.Contains(cmd, "--fail-with-body") {
			t.Errorf("a curl of the recipe hides the server's answer on failure (no --fail-with-body):\n%s", cmd)
		}
		m := regexp.MustCompile(`-X (\w+)`).FindStringSubmatch(cmd)
		p := regexp.MustCompile(`"\$project/([^"]+)"`).FindStringSubmatch(cmd)
		calls = append(calls, recipeCall{m[1], p[1]})
	}
	if m := regexp.MustCompile(`\{environment_id: (\d+),`).FindStringSubmatch(block); m != nil {
		envID = m[1]
	}
	return calls, envID
}

// send is one request of a recipe against the server, as curl sends it.
func send(t *testing.T, srv *servertest.Server, method, path string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+"/api/v3/accounts/1/projects/1/"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Token "+srv.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The README's CI recipe uploads the manifest first, then posts the run's
// results, and every call prints the server's answer when it fails. Replayed
// against the server in its order it succeeds; the results alone, without
// the manifest, are refused with an answer that says why.
func TestReadmeCIRecipeRunsAgainstTheServer(t *testing.T) {
	calls, envID := ciRecipe(t)
	want := []recipeCall{{"PUT", "manifest/"}, {"POST", "active-exposures/runs/"}}
	if len(calls) != 2 || calls[0] != want[0] || calls[1] != want[1] || envID == "" {
		t.Fatalf("the recipe calls %v with environment %q, want %v with an environment", calls, envID, want)
	}
	manifest, err := os.ReadFile(filepath.Join("examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	runResults, err := os.ReadFile(filepath.Join("examples", "demo", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	results := []byte(`{"environment_id": ` + envID + `, "run_results": ` + string(runResults) + `}`)

	srv := servertest.New(t)
	if code, body := send(t, srv, calls[1].method, calls[1].path, results); code < 400 || !strings.Contains(body, "manifest") {
		t.Fatalf("results before any manifest: %d %s; want a refusal that names the manifest", code, body)
	}
	if code, body := send(t, srv, calls[0].method, calls[0].path, manifest); code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", calls[0].method, calls[0].path, code, body)
	}
	if code, body := send(t, srv, calls[1].method, calls[1].path, results); code != http.StatusCreated {
		t.Fatalf("%s %s: %d %s", calls[1].method, calls[1].path, code, body)
	}
}

// The README documents the selections endpoint with the spec's path and the
// body the server takes: sent as written, the example body is accepted.
func TestReadmeSelectionsEndpointIsTheOneServed(t *testing.T) {
	section := readmeSection(t, "A lineage integration's selection is what auto-exposures import.")
	path := regexp.MustCompile("`POST (/api/v3/accounts/\\{a\\}/projects/\\{p\\}/integrations/lineage/\\{id\\}/selections)`").FindStringSubmatch(section)
	body := regexp.MustCompile("(?s)with `(\\{\"to_add\".*?\\})`;").FindStringSubmatch(section)
	if path == nil || body == nil {
		t.Fatalf("the README does not document the selections path and body:\n%.600s", section)
	}
	// The example's placeholders, filled in: an empty change is valid for any integration.
	var example map[string]any
	filled := strings.NewReplacer(`"folder" | "dashboard"`, `"folder"`).Replace(body[1])
	if err := json.Unmarshal([]byte(filled), &example); err != nil {
		t.Fatalf("the documented body is not JSON once its type alternatives are chosen: %v\n%s", err, filled)
	}
	if _, ok := example["to_add"]; !ok {
		t.Fatal("the documented body has no to_add")
	}
	if _, ok := example["to_remove"]; !ok {
		t.Fatal("the documented body has no to_remove")
	}
	srv := servertest.New(t)
	host, site, name, tok := "tableau.example.com", "acme", "dbt", "secret"
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	served := strings.NewReplacer("/api/v3/accounts/{a}/projects/{p}/", "", "{id}", fmt.Sprint(in.ID)).Replace(path[1])
	code, answer := send(t, srv, "POST", served, []byte(`{"to_add": [], "to_remove": []}`))
	if code != http.StatusOK || !strings.Contains(answer, `"added":0`) || !strings.Contains(answer, `"removed":0`) {
		t.Fatalf("POST %s as documented: %d %s", served, code, answer)
	}
}

// The pages a user reads first speak of both tools.
func TestFirstPagesSpeakOfBothTools(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	opening, _, _ := strings.Cut(string(readme), "\n## ")
	pages := map[string]string{"README.md's opening": opening}
	for _, p := range []string{filepath.Join("docs", "index.md"), filepath.Join("docs", "resources", "active_exposures.md")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pages[p] = string(b)
	}
	for name, text := range pages {
		if !strings.Contains(text, "Tableau") || !strings.Contains(text, "Power BI") {
			t.Errorf("%s does not speak of both Tableau and Power BI", name)
		}
	}
}

// The README's GitHub Actions step posts the pull request's manifest to the
// impact endpoint with --fail-with-body and finds its earlier comment by the
// comment's first line. Sent as written, after the manifest the base is,
// the call answers the comment.
func TestReadmeImpactRecipeRunsAgainstTheServer(t *testing.T) {
	_, block, _ := strings.Cut(readmeSection(t, "A GitHub Actions step that posts the comment"), "```yaml\n")
	block, _, _ = strings.Cut(block, "```\n")
	cmd := regexp.MustCompile(`(?s)curl .*?"\$project/([^"]+)"`).FindStringSubmatch(block)
	if cmd == nil || !strings.Contains(cmd[0], "--fail-with-body") || !strings.Contains(cmd[0], "-X POST") {
		t.Fatalf("the step's curl does not post with --fail-with-body:\n%s", block)
	}
	if !strings.Contains(block, `startswith("`+impact.CommentMarker+`")`) {
		t.Fatalf("the step does not find its comment by %q:\n%s", impact.CommentMarker, block)
	}
	manifest, err := os.ReadFile(filepath.Join("examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := servertest.New(t)
	if code, body := send(t, srv, "POST", cmd[1], manifest); code != http.StatusConflict || !strings.Contains(body, "PUT …/manifest/") {
		t.Fatalf("before any manifest: %d %s; want a 409 that says to upload one", code, body)
	}
	if code, body := send(t, srv, "PUT", "manifest/", manifest); code != http.StatusOK {
		t.Fatalf("manifest: %d %s", code, body)
	}
	if code, body := send(t, srv, "POST", cmd[1], manifest); code != http.StatusOK || !strings.HasPrefix(body, impact.CommentMarker) ||
		!strings.Contains(body, "no dbt node changed") {
		t.Fatalf("POST %s: %d %s", cmd[1], code, body)
	}
}

// The README's Go example for Azure's identity library compiles: it is
// built as a program inside this module.
func TestReadmeAzidentityExampleCompiles(t *testing.T) {
	_, block, _ := strings.Cut(readmeSection(t, "In Go, with instance discovery off"), "```go\n")
	block, _, ok := strings.Cut(block, "```\n")
	if !ok || !strings.Contains(block, "azidentity.NewClientSecretCredential") {
		t.Fatalf("README has no Go example for azidentity:\n%.300s", block)
	}
	dir, err := os.MkdirTemp(".", "readme_example_")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := `package main

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func main() {
	ctx := context.Background()
	tenantID, clientID, secret := "contoso", "app", "s3cret"
` + block + `	_, _ = tok, err
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", os.DevNull, "./"+dir).CombinedOutput(); err != nil {
		t.Fatalf("the README's Go example does not compile: %v\n%s\n%s", err, out, src)
	}
}
