package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// discoverySource is one tool's discovery settings, as a selection whose
// connection is not created yet names its items with them.
type discoverySource struct {
	tool  bi.Tool
	block string // the provider's settings: "tableau"
	why   string // why they cannot be used; "" when they can
	tree  func(context.Context) (*bi.Tree, error)
}

// discovery is every tool's discovery settings.
func (pd *providerData) discovery() []discoverySource {
	return []discoverySource{
		{tableau.Tool, tableauBlock.name, pd.tableau.unavailable(), pd.tableau.Tree},
		{powerbi.Tool, powerbiBlock.name, pd.powerbi.unavailable(), pd.powerbi.Tree},
	}
}

// planByDiscovery names a selection whose connection is created in the same
// apply, so dbt Cloud cannot list its folders yet (see nameByDiscovery). When
// it cannot, `selected` is known after apply and the plan says why, once.
func (r *autoExposureSelectionResource) planByDiscovery(ctx context.Context, plan *selectionModel, resp *resource.ModifyPlanResponse) {
	named, reasons := r.nameByDiscovery(ctx, plan)
	if !named.IsNull() {
		plan.Selected = named
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	if !r.trees.firstWarning("discovery names") {
		return
	}
	resp.Diagnostics.AddWarning("Selection names known after apply",
		fmt.Sprintf("The connection of %s is created in this same apply, so dbt Cloud cannot list its folders yet, and the provider's "+
			"own discovery settings could not name the selected items instead (%s). To see them by name in this plan, set the "+
			"provider's `tableau` or `powerbi` settings (or their environment variables) for the site or tenant the connection reads.",
			plan.subject(), strings.Join(reasons, "; ")))
}

// nameByDiscovery names the selected items through the provider's own
// discovery settings. Tableau LUIDs and Power BI IDs are unique, so the first
// tool's tree that has every selected ID names them. It returns a null set,
// and why for each tool, when none does.
func (r *autoExposureSelectionResource) nameByDiscovery(ctx context.Context, plan *selectionModel) (types.Set, []string) {
	var reasons []string
	for _, d := range r.discovery {
		if d.why != "" {
			first, _, _ := strings.Cut(d.why, ". ") // the advice that follows is the warning's own
			reasons = append(reasons, fmt.Sprintf("`%s`: %s", d.block, strings.TrimSuffix(first, ".")))
			continue
		}
		bt, err := d.tree(ctx)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("`%s`: reading %s failed: %s", d.block, d.tool.Label, err))
			continue
		}
		tree := treeOf(d.tool.Name, bt)
		var scratch diag.Diagnostics
		items := resolve(tree, plan.desired(ctx, termsFor(tree.tool), &scratch), nil, &scratch)
		if !scratch.HasError() {
			return selectedValue(items), nil
		}
		reasons = append(reasons, fmt.Sprintf("`%s`: %s does not have every selected ID there", d.block, d.tool.Label))
	}
	return types.SetNull(selectedItemType), reasons
}

// agreeWithDiscovery fails the plan of a new selection whose connection names
// the items otherwise than the provider's discovery settings do. When the
// connection was created in the same apply, the first plan named them that
// way, and Terraform would report the difference as a provider bug.
func (r *autoExposureSelectionResource) agreeWithDiscovery(ctx context.Context, plan *selectionModel, items []pickedItem, diags *diag.Diagnostics) {
	if named, _ := r.nameByDiscovery(ctx, plan); !named.IsNull() {
		checkNamed(plan, named, items, diags)
	}
}

// checkNamed fails when the connection lists the selection (items)
// otherwise than it was named before (from the provider's discovery, or from
// a tree that changed since), before anything is changed.
func checkNamed(m *selectionModel, named types.Set, items []pickedItem, diags *diag.Diagnostics) {
	got := selectedValue(items)
	if named.IsUnknown() || named.IsNull() || got.Equal(named) {
		return
	}
	diags.AddAttributeError(path.Root("selected"), "The connection lists the selection otherwise than the plan",
		fmt.Sprintf("The plan named the selection of %s as %s, but its connection lists it as %s. The selection was not changed. "+
			"If the plan named it through the provider's `tableau` or `powerbi` settings, they read another site or tenant than the "+
			"connection: make them read the same one. Otherwise the BI tool changed since the plan: plan and apply again.",
			m.subject(), describeItems(named), describeItems(got)))
}

// describeItems lists a `selected` value as "folder Finance/Quarterly, …".
func describeItems(set types.Set) string {
	var out []string
	for _, v := range set.Elements() {
		if o, ok := v.(types.Object); ok {
			a := o.Attributes()
			out = append(out, fmt.Sprintf("%s %s", a["type"].(types.String).ValueString(), a["path"].(types.String).ValueString()))
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
