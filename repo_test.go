package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// skippedDirs hold build output and scratch files, not the project's sources.
var skippedDirs = map[string]bool{".git": true, "bin": true, ".demo": true, ".docs-check": true, ".terraform": true}

// A clone of the repository is the whole product: nothing may refer to a
// folder beside the checkout, because a user's clone has none. Reference
// material is copied into testdata/ folders with a NOTICE instead.
func TestNothingReadsOutsideTheRepository(t *testing.T) {
	needles := [][]byte{[]byte(".." + "/shared"), []byte(`..` + `\shared`)}
	var offenders []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skippedDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				offenders = append(offenders, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offenders) > 0 {
		t.Fatalf("these files refer to a folder outside the repository, which a user's clone does not have; "+
			"copy what they need into a testdata/ folder with a NOTICE naming source and license:\n  %s", strings.Join(offenders, "\n  "))
	}
}
