package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"
	"gopkg.in/yaml.v3"
)

// The release, as the Terraform Registry takes it, for linux/amd64 only:
// `make release-snapshot` runs the pinned GoReleaser on the repository's
// .goreleaser.yml (its targets cut to one) and signs SHA256SUMS with a
// throwaway key, and Terraform installs the zip
// from a filesystem mirror, pinned to the VERSION file's version, and reads
// the provider's schema.
func TestReleaseSnapshotInstallsWithTerraform(t *testing.T) {
	tf := terraformBin(t)
	tmp := t.TempDir()
	version := strings.TrimSpace(string(readFile(t, "VERSION")))
	gnupg, fingerprint := throwawayKey(t)
	dist := filepath.Join(tmp, "dist")
	config := singleTargetConfig(t, dist, "linux_amd64")
	run(t, ".", []string{"GPG_FINGERPRINT=" + fingerprint, "GNUPGHOME=" + gnupg},
		"make", "-s", "release-snapshot", "GORELEASER_CONFIG="+config, "DIST="+dist)

	prefix := filepath.Join(dist, "terraform-provider-dbtexposures_"+version)
	zipPath := prefix + "_linux_amd64.zip"
	checkZip(t, zipPath, "terraform-provider-dbtexposures_v"+version)
	checkManifest(t, prefix+"_manifest.json")
	sums := string(readFile(t, prefix+"_SHA256SUMS"))
	for _, f := range []string{zipPath, prefix + "_manifest.json", filepath.Join(dist, "dbtexposures-server_"+version+"_linux_amd64.tar.gz")} {
		if want := fileSHA256(t, f) + "  " + filepath.Base(f); !strings.Contains(sums, want+"\n") {
			t.Errorf("SHA256SUMS lacks %q:\n%s", want, sums)
		}
	}
	run(t, ".", []string{"GNUPGHOME=" + gnupg}, "gpg", "--batch", "--verify", prefix+"_SHA256SUMS.sig", prefix+"_SHA256SUMS")

	mirror := filepath.Join(tmp, "mirror", "registry.terraform.io", "dbtexposures", "dbtexposures")
	if err := os.MkdirAll(mirror, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(zipPath, filepath.Join(mirror, filepath.Base(zipPath))); err != nil {
		t.Fatal(err)
	}
	h1, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	check(t, err)
	schemaFromMirror(t, tf, tmp, version, h1)
}

// schemaFromMirror installs the release's zip through a filesystem mirror and
// reads the schema with real Terraform; the lock file records the hash of
// what the zip holds (h1, the hash Terraform checks installs against).
func schemaFromMirror(t *testing.T, tf, tmp, version, h1 string) {
	t.Helper()
	cli := filepath.Join(tmp, "terraformrc")
	check(t, os.WriteFile(cli, []byte(`provider_installation {
  filesystem_mirror {
    path    = "`+filepath.Join(tmp, "mirror")+`"
    include = ["registry.terraform.io/dbtexposures/*"]
  }
}
`), 0o644))
	work := filepath.Join(tmp, "work")
	check(t, os.MkdirAll(work, 0o755))
	check(t, os.WriteFile(filepath.Join(work, "main.tf"), []byte(`terraform {
  required_providers {
    dbtexposures = {
      source  = "dbtexposures/dbtexposures"
      version = "= `+version+`"
    }
  }
}
`), 0o644))
	env := []string{"HOME=" + tmp, "TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_PLUGIN_CACHE_DIR=", "TF_LOG="}
	if out := run(t, work, env, tf, "init", "-input=false", "-no-color"); !strings.Contains(out, "Installed dbtexposures/dbtexposures v"+version) {
		t.Fatalf("terraform init did not install the release:\n%s", out)
	}
	if lock := string(readFile(t, filepath.Join(work, ".terraform.lock.hcl"))); !strings.Contains(lock, `"`+h1+`"`) {
		t.Errorf("the lock file does not record the release zip's hash %s:\n%s", h1, lock)
	}
	var schema struct {
		ProviderSchemas map[string]struct {
			ResourceSchemas   map[string]any `json:"resource_schemas"`
			DataSourceSchemas map[string]any `json:"data_source_schemas"`
		} `json:"provider_schemas"`
	}
	check(t, json.Unmarshal([]byte(run(t, work, env, tf, "providers", "schema", "-json")), &schema))
	p := schema.ProviderSchemas["registry.terraform.io/dbtexposures/dbtexposures"]
	if p.ResourceSchemas["dbtexposures_auto_exposure_selection"] == nil || p.DataSourceSchemas["dbtexposures_exposures"] == nil {
		t.Fatalf("the installed release's schema lacks the selection resource or the exposures data source: %+v", schema)
	}
}

// singleTargetConfig is .goreleaser.yml with every build cut to one target
// and its output in dist.
func singleTargetConfig(t *testing.T, dist, target string) string {
	t.Helper()
	var cfg map[string]any
	check(t, yaml.Unmarshal(readFile(t, ".goreleaser.yml"), &cfg))
	builds, _ := cfg["builds"].([]any)
	if len(builds) != 2 {
		t.Fatalf(".goreleaser.yml has %d builds; want the provider and the server", len(builds))
	}
	for _, b := range builds {
		b.(map[string]any)["targets"] = []string{target}
	}
	cfg["dist"] = dist
	raw, err := yaml.Marshal(cfg)
	check(t, err)
	out := filepath.Join(filepath.Dir(dist), "goreleaser.yml")
	check(t, os.WriteFile(out, raw, 0o644))
	return out
}

// throwawayKey makes a signing key without a passphrase in a GnuPG home of its
// own, and returns the home and the key's fingerprint.
func throwawayKey(t *testing.T) (string, string) {
	t.Helper()
	// GnuPG's agent socket lives in its home, whose path must stay short.
	home, err := os.MkdirTemp("/tmp", "gpg")
	check(t, err)
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		_ = os.RemoveAll(home)
	})
	env := []string{"GNUPGHOME=" + home}
	run(t, home, env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "dbtexposures release test <release-test@example.invalid>", "ed25519", "sign", "1d")
	for _, line := range strings.Split(run(t, home, env, "gpg", "--batch", "--with-colons", "--list-secret-keys"), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && len(f) > 9 {
			return home, f[9]
		}
	}
	t.Fatal("gpg made no key")
	return "", ""
}

func checkZip(t *testing.T, path, binary string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the provider's zip: %v", err)
	}
	defer z.Close()
	if len(z.File) != 1 || z.File[0].Name != binary {
		names := []string{}
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		t.Fatalf("%s holds %v; the Registry wants %s alone", filepath.Base(path), names, binary)
	}
}

func checkManifest(t *testing.T, path string) {
	t.Helper()
	var m struct {
		Version  int `json:"version"`
		Metadata struct {
			ProtocolVersions []string `json:"protocol_versions"`
		} `json:"metadata"`
	}
	check(t, json.Unmarshal(readFile(t, path), &m))
	if m.Version != 1 || strings.Join(m.Metadata.ProtocolVersions, ",") != "6.0" {
		t.Fatalf("%s: %+v; want version 1 and protocol 6.0, which the provider serves", filepath.Base(path), m)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	check(t, err)
	return b
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
