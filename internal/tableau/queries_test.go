package tableau

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// loadSchema parses Tableau's Metadata API schema, the copy the emulator embeds
// (emulator/schema/NOTICE.md says where it comes from).
func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "tableau-metadata.graphql", Input: emulator.SchemaSDL()})
	if gerr != nil {
		t.Fatalf("loading Tableau's schema: %v", gerr)
	}
	return schema
}

func TestEveryQueryValidatesAgainstTableauSchema(t *testing.T) {
	schema := loadSchema(t)
	if len(Queries) == 0 {
		t.Fatal("no queries registered")
	}
	for name, q := range Queries {
		if _, errs := gqlparser.LoadQuery(schema, q); errs != nil {
			t.Errorf("query %s is invalid against Tableau's schema: %v", name, errs)
		}
	}
}

// The validation must be able to fail: a field Tableau does not have is refused.
func TestValidationRejectsUnknownFields(t *testing.T) {
	schema := loadSchema(t)
	bad := strings.Replace(WorkbooksQuery, "projectLuid", "projectLuid webpageUrl", 1)
	if _, errs := gqlparser.LoadQuery(schema, bad); errs == nil {
		t.Fatal("a query with an unknown field validated")
	}
}
