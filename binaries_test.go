package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goPlugin is HashiCorp's plugin library, which every Terraform provider links
// to talk to Terraform. Its testing.go imports the standard testing package, so
// the provider binary links testing's init through it; nothing of ours does.
const goPlugin = "github.com/hashicorp/go-plugin"

const module = "github.com/dbtexposures/terraform-provider-dbtexposures"

type pkg struct {
	path     string
	standard bool
	imports  []string
}

func deps(t *testing.T, mainPkg string) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \",\"}}", mainPkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", mainPkg, err, out)
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkgs = append(pkgs, pkg{path: f[0], standard: f[1] == "true", imports: strings.Split(f[2], ",")})
	}
	return pkgs
}

// The binaries we ship carry no test code: no test helper package (…test) is
// linked, none of our packages imports testing, and the server, the demo and
// the end-to-end benchmark do not link testing at all. (internal/synctest is
// the standard library's, which package sync imports in every Go program.)
func TestBinariesLinkNoTestCode(t *testing.T) {
	for _, main := range []string{".", "./cmd/dbtexposures-server", "./cmd/dbtexposures-demo", "./cmd/dbtexposures-bench-e2e"} {
		var importersOfTesting []string
		for _, p := range deps(t, main) {
			if !p.standard && strings.HasSuffix(p.path, "test") {
				t.Errorf("%s links the test helper package %s", main, p.path)
			}
			if slices.Contains(p.imports, "testing") {
				importersOfTesting = append(importersOfTesting, p.path)
				if strings.HasPrefix(p.path, module) {
					t.Errorf("%s: our package %s imports testing", main, p.path)
				}
			}
		}
		allowed := main == "." && slices.Equal(importersOfTesting, []string{goPlugin})
		if len(importersOfTesting) > 0 && !allowed {
			t.Errorf("%s links testing through %v", main, importersOfTesting)
		}
	}
}

// The API clients know nothing of Terraform: logging and transport are injected.
func TestAPIClientsImportNoTerraformPackage(t *testing.T) {
	for _, client := range []string{"./internal/dbtcloud", "./internal/tableau", "./internal/powerbi", "./internal/powerbi/mquery"} {
		for _, p := range deps(t, client) {
			if strings.HasPrefix(p.path, "github.com/hashicorp/terraform-plugin-") {
				t.Errorf("%s depends on %s", client, p.path)
			}
		}
	}
}
