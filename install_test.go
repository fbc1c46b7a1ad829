package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// useItConfig is the configuration the README's "Use it" section asks users to paste.
func useItConfig(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Use it\n")
	if !ok {
		t.Fatal(`README.md has no "## Use it" section`)
	}
	_, block, ok := strings.Cut(section, "```hcl\n")
	if !ok {
		t.Fatal(`README.md's "Use it" section has no hcl block`)
	}
	block, _, _ = strings.Cut(block, "```\n")
	return block
}

// terraformBin is the terraform that make test found on PATH.
func terraformBin(t *testing.T) string {
	t.Helper()
	if tf := os.Getenv("TF_ACC_TERRAFORM_PATH"); tf != "" {
		return tf
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform is not on PATH: install Terraform 1.11+ (make test needs it)")
	}
	return tf
}

// tofuBin is the OpenTofu that make test built from tools/tofu; a test run
// outside make builds it the same way.
func tofuBin(t *testing.T) string {
	t.Helper()
	if tofu := os.Getenv("DBTEXPOSURES_TOFU"); tofu != "" {
		return tofu
	}
	run(t, ".", nil, "make", "-s", "bin/tofu")
	tofu, err := filepath.Abs(filepath.Join("bin", "tofu"))
	if err != nil {
		t.Fatal(err)
	}
	return tofu
}

// run runs a command in dir with env added to a clean environment, and returns
// what it printed; it fails the test if the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// A user who clones the repository runs `make install`, pastes the README's
// configuration into an empty folder and runs terraform init and validate:
// offline, with no dev_overrides and no warning. Everything happens under
// temporary folders: the user's home and Terraform configuration are untouched.
func TestMakeInstallThenReadmeConfigInitialises(t *testing.T) {
	tf := terraformBin(t)
	home := t.TempDir()
	pluginDir := filepath.Join(home, ".terraform.d", "plugins")
	out := run(t, ".", nil, "make", "-s", "install", "PLUGIN_DIR="+pluginDir)
	version, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	ver := strings.TrimSpace(string(version))
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		binary := filepath.Join(pluginDir, host, "dbtexposures", "dbtexposures", ver,
			runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-dbtexposures_v"+ver)
		if _, err := os.Stat(binary); err != nil {
			t.Fatalf("make install did not put the provider where %s's users look: %v\n%s", host, err, out)
		}
	}

	cliConfig := filepath.Join(home, "terraformrc") // empty: no dev_overrides, no mirrors but the implied one
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "TF_CLI_CONFIG_FILE=" + cliConfig, "CHECKPOINT_DISABLE=1",
		"TF_PLUGIN_CACHE_DIR=", "TF_LOG=", "TF_IN_AUTOMATION=1"}
	platform := "-platform=" + runtime.GOOS + "_" + runtime.GOARCH
	config := []byte(useItConfig(t))

	// The implied local mirror, as a user has it after make install; the lock
	// step the README gives first makes init quiet.
	user := t.TempDir()
	if err := os.WriteFile(filepath.Join(user, "main.tf"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, user, env, tf, "providers", "lock", "-no-color", "-fs-mirror="+pluginDir, platform)
	initOut := run(t, user, env, tf, "init", "-input=false", "-no-color")
	checkInit(t, initOut, ver, false)
	if v := run(t, user, env, tf, "validate", "-no-color"); !strings.Contains(v, "Success!") || strings.Contains(v, "Warning") {
		t.Fatalf("terraform validate of the README's configuration:\n%s", v)
	}

	// A plain init, as the README writes it: Terraform's only note is that it
	// computed the lock file's checksum itself, as the README says.
	plain := t.TempDir()
	if err := os.WriteFile(filepath.Join(plain, "main.tf"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	checkInit(t, run(t, plain, env, tf, "init", "-input=false", "-no-color"), ver, true)
	if v := run(t, plain, env, tf, "validate", "-no-color"); !strings.Contains(v, "Success!") || strings.Contains(v, "Warning") {
		t.Fatalf("terraform validate of the README's configuration:\n%s", v)
	}

	// OpenTofu, as the README writes it: a plain `tofu init`, which reads the
	// same implied mirror under registry.opentofu.org, then `tofu validate`.
	tofu := t.TempDir()
	if err := os.WriteFile(filepath.Join(tofu, "main.tf"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	checkInit(t, run(t, tofu, env, tofuBin(t), "init", "-input=false", "-no-color"), ver, true)
	if v := run(t, tofu, env, tofuBin(t), "validate", "-no-color"); !strings.Contains(v, "Success!") || strings.Contains(v, "Warning") {
		t.Fatalf("tofu validate of the README's configuration:\n%s", v)
	}
}

// checkInit asserts terraform init installed our version and warned of nothing
// (but the lock file's locally computed checksum, when lockNote is set).
func checkInit(t *testing.T, out, version string, lockNote bool) {
	t.Helper()
	if !strings.Contains(out, "Installed dbtexposures/dbtexposures v"+version) {
		t.Fatalf("terraform init did not install the provider built by make install:\n%s", out)
	}
	if strings.Contains(out, "dev_overrides") || strings.Contains(out, "Provider development overrides") {
		t.Fatalf("terraform init mentions dev_overrides:\n%s", out)
	}
	warnings := strings.Count(out, "Warning:")
	if lockNote && strings.Contains(out, "Warning: Incomplete lock file information for providers") {
		warnings--
	}
	if warnings != 0 {
		t.Fatalf("terraform init warned:\n%s", out)
	}
}

// The docs' index page shows the same required_providers block as the README.
func TestDocsIndexShowsTheReadmeRequiredProviders(t *testing.T) {
	config := useItConfig(t)
	start := strings.Index(config, "  required_providers {")
	end := strings.Index(config[start:], "\n  }\n")
	if start < 0 || end < 0 {
		t.Fatal("the README's configuration has no required_providers block")
	}
	block := config[start : start+end+len("\n  }\n")]
	index, err := os.ReadFile(filepath.Join("docs", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), block) {
		t.Fatalf("docs/index.md does not show the README's required_providers block:\n%s", block)
	}
}
