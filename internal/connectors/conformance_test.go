package connectors_test

import (
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi/bitest"
	_ "github.com/dbtexposures/terraform-provider-dbtexposures/internal/connectors"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// emulators are the registered tools' emulators, by tool name: a tool
// registered without one fails the suite.
var emulators = map[string]func() bi.Emulator{
	tableau.Tool.Name: func() bi.Emulator { return emulator.Sample() },
	powerbi.Tool.Name: func() bi.Emulator { return pbiemulator.Sample() },
}

// Every registered connector passes the conformance suite against its emulator.
func TestConformance(t *testing.T) {
	for _, c := range bi.Connectors() {
		t.Run(c.Tool().Name, func(t *testing.T) {
			sample, ok := emulators[c.Tool().Name]
			if !ok {
				t.Fatalf("the %s connector has no emulator in this suite", c.Tool().Label)
			}
			bitest.Conformance(t, c, sample())
		})
	}
}
