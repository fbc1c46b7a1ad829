package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

var (
	_ resource.ResourceWithConfigure    = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithImportState  = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithModifyPlan   = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithUpgradeState = (*autoExposureSelectionResource)(nil)
)

// NewAutoExposureSelectionResource is dbtexposures_auto_exposure_selection:
// which folders and dashboards (Tableau projects and workbooks, Power BI
// workspaces and reports) a connection imports as exposures.
func NewAutoExposureSelectionResource() resource.Resource { return &autoExposureSelectionResource{} }

type autoExposureSelectionResource struct {
	client    *dbtcloud.Client
	trees     *treeCache
	discovery []discoverySource
}

type selectionModel struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.Int64  `tfsdk:"project_id"`
	ConnectionID types.Int64  `tfsdk:"connection_id"`
	FolderIDs    types.Set    `tfsdk:"folder_ids"`
	WorkbookIDs  types.Set    `tfsdk:"workbook_ids"`
	ReportIDs    types.Set    `tfsdk:"report_ids"`
	Selected     types.Set    `tfsdk:"selected"`
}

var selectedItemType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"identifier": types.StringType, "name": types.StringType, "path": types.StringType, "type": types.StringType,
}}

// pickedItem is one item of `selected`: what dbt Cloud watches, with its path.
type pickedItem struct {
	dbtcloud.WatchSelectionItem
	Path string
}

func (r *autoExposureSelectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_auto_exposure_selection"
}

// selectionSchemaVersion 1 made `selected` a set, so plans show items added and
// removed rather than renames by position; 2 added report_ids; 3 added each
// item's path. Older states are upgraded.
const selectionSchemaVersion = 3

func (r *autoExposureSelectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Version: selectionSchemaVersion,
		MarkdownDescription: "Which folders and dashboards a connection imports as dbt auto-exposures: Tableau projects and workbooks " +
			"on a `dbtexposures_tableau_connection` (`folder_ids`, `workbook_ids`), Power BI workspaces and reports on a " +
			"`dbtexposures_powerbi_connection` (`folder_ids`, `report_ids`). " +
			"The resource is **authoritative** for the connection: items watched outside Terraform (for example in dbt Cloud's UI) " +
			"show as drift and are unwatched on apply, and destroying the resource unwatches everything. One resource owns a " +
			"connection: two in one configuration fail the plan, and creating one on a connection that already watches other items " +
			"fails with the `terraform import` command that takes that selection over.\n\n" +
			"The plan lists the selection by name and path (`Finance/Quarterly`, `Finance/Quarterly/Board pack`) in `selected`, a set, " +
			"so a plan shows each item added or removed. When the connection is created in the same apply, dbt Cloud cannot list its " +
			"folders yet; the provider then names the items through its own discovery settings (`tableau`, `powerbi`), which must " +
			"read the site or tenant the connection reads (the apply checks that the connection names them alike). Without those " +
			"settings `selected` is known after apply, and the plan says so once. Identifiers " +
			"that do not exist in the BI tool fail the plan with the list of them. A selected dashboard or folder that is deleted in " +
			"the BI tool disappears from the connection: when the selection comes from the discovery data sources the plan simply " +
			"shows it leaving `selected`; when its ID is written in the configuration the plan fails and names it, so remove it there.\n\n" +
			"When dbt Cloud cannot read the BI tool (a revoked or expired token or secret, an unreachable site), refresh and plan keep the last " +
			"known selection and warn, so the fix (a new write-only secret with a bumped version on the connection) applies; " +
			"a changed selection then shows its names as known after apply. Destroying the resource unwatches what its state " +
			"holds without reading the BI tool.\n\n" +
			"Cost per plan: one request for the connection, and one collections request per folder of the connection, plus one for the top (the tree is walked " +
			"once per run however many steps need it, at most eight requests at a time, within the provider's " +
			"`max_requests_per_minute`); none with `-refresh=false` when neither the configuration nor the state changed; and one " +
			"selections request per apply that changes something. At the default 1,000 requests a minute a 2,000-folder " +
			"connection costs about two minutes of plan, well inside dbt Cloud's 5,000 a minute per account.",
		Attributes: selectionAttributes(schema.SetNestedAttribute{
			Computed:            true,
			MarkdownDescription: "The selection by name: what a reviewer reads in the plan.",
			NestedObject:        selectedItemObject(),
		}, true),
	}
}

func selectedItemObject() schema.NestedAttributeObject {
	o := selectedItemObjectV2()
	o.Attributes["path"] = schema.StringAttribute{Computed: true, MarkdownDescription: "Names from the top folder down, joined by `/`: " +
		"`Finance/Quarterly` for a folder, `Finance/Quarterly/Board pack` for a dashboard in it (a Power BI report: `Workspace/Report`). " +
		"Names repeat across folders; paths tell them apart."}
	return o
}

// selectedItemObjectV2 is an item of `selected` before schema version 3.
func selectedItemObjectV2() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"identifier": schema.StringAttribute{Computed: true, MarkdownDescription: "Tableau LUID or Power BI ID."},
		"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Folder or dashboard name."},
		"type":       schema.StringAttribute{Computed: true, MarkdownDescription: "`folder` (a Tableau project, a Power BI workspace) or `dashboard` (a workbook, a report)."},
	}}
}

// selectionAttributes are the schema's attributes around `selected`, which
// changed shape between versions; report_ids came in version 2.
func selectionAttributes(selected schema.Attribute, withReports bool) map[string]schema.Attribute {
	empty := types.SetValueMust(types.StringType, nil)
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Computed: true, MarkdownDescription: "`<project_id>:<connection_id>`, also the import ID.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"project_id": schema.Int64Attribute{
			Required: true, MarkdownDescription: "ID of the dbt Cloud project. Changing it replaces the resource.",
			PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			Validators:    []validator.Int64{int64validator.AtLeast(1)},
		},
		"connection_id": schema.Int64Attribute{
			Required: true, MarkdownDescription: "The connection's `integration_id` (from `dbtexposures_tableau_connection` or `dbtexposures_powerbi_connection`). Changing it replaces the resource.",
			PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			Validators:    []validator.Int64{int64validator.AtLeast(1)},
		},
		"folder_ids": schema.SetAttribute{
			Optional: true, Computed: true, ElementType: types.StringType, Default: setdefault.StaticValue(empty),
			MarkdownDescription: "Folders to watch, every dashboard in them imported: LUIDs of Tableau projects (see `dbtexposures_tableau_projects`) " +
				"or IDs of Power BI workspaces (see `dbtexposures_powerbi_workspaces`).",
		},
		"workbook_ids": schema.SetAttribute{
			Optional: true, Computed: true, ElementType: types.StringType, Default: setdefault.StaticValue(empty),
			MarkdownDescription: "LUIDs of Tableau workbooks to watch, on a Tableau connection. See `dbtexposures_tableau_workbooks`.",
		},
		"selected": selected,
	}
	if withReports {
		attrs["report_ids"] = schema.SetAttribute{
			Optional: true, Computed: true, ElementType: types.StringType, Default: setdefault.StaticValue(empty),
			MarkdownDescription: "IDs of Power BI reports to watch, on a Power BI connection. See `dbtexposures_powerbi_reports`.",
		}
	}
	return attrs
}

func (r *autoExposureSelectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
	if pd := providerDataFrom(req.ProviderData, &resp.Diagnostics); pd != nil {
		r.trees = &pd.trees
		r.discovery = pd.discovery()
	}
}

// desired reads folder_ids, and workbook_ids or report_ids (the tool's
// dashboards), as identifier -> type. Dashboard IDs in the other tool's
// argument are an error naming the right one.
func (m *selectionModel) desired(ctx context.Context, t toolTerms, diags *diag.Diagnostics) map[string]dbtcloud.ItemType {
	var folders, dashboards, wrong []string
	diags.Append(m.FolderIDs.ElementsAs(ctx, &folders, false)...)
	own, other := m.WorkbookIDs, m.ReportIDs
	if t.dashboard.argument == "report_ids" {
		own, other = m.ReportIDs, m.WorkbookIDs
	}
	diags.Append(own.ElementsAs(ctx, &dashboards, false)...)
	if !other.IsNull() && !other.IsUnknown() {
		diags.Append(other.ElementsAs(ctx, &wrong, false)...)
	}
	if len(wrong) > 0 {
		arg := map[string]string{"workbook_ids": "report_ids", "report_ids": "workbook_ids"}[t.dashboard.argument]
		diags.AddAttributeError(path.Root(arg), arg+" does not fit this connection",
			fmt.Sprintf("The connection of %s is a %s connection, whose dashboards are %ss: list them in %s, not %s.",
				m.subject(), t.label, t.dashboard.noun, t.dashboard.argument, arg))
	}
	out := map[string]dbtcloud.ItemType{}
	for _, f := range folders {
		out[f] = dbtcloud.ItemFolder
	}
	for _, w := range dashboards {
		if out[w] == dbtcloud.ItemFolder {
			diags.AddAttributeError(path.Root(t.dashboard.argument), "Identifier in both folder_ids and "+t.dashboard.argument,
				fmt.Sprintf("%q is listed in both; keep it in one.", w))
		}
		out[w] = dbtcloud.ItemDashboard
	}
	return out
}

func (m *selectionModel) subject() string { return subject(m.ProjectID, m.ConnectionID) }

func (m *selectionModel) key() string {
	return twoPartID(m.ProjectID.ValueInt64(), m.ConnectionID.ValueInt64())
}

// selectionKind is how the configuration speaks of an item type: its argument,
// the word for it, and the data source that lists its identifiers.
type selectionKind struct {
	argument, noun, source string
}

// toolTerms are a BI tool's words for what a selection holds.
type toolTerms struct {
	label     string // "Tableau"
	where     string // "the Tableau site", for "… of this connection"
	secret    string // what the connection's secret is called
	folder    selectionKind
	dashboard selectionKind
	// fix says how to send a new secret when dbt Cloud cannot read the tool.
	fix string
}

// selectionTerms are the words of each tool that has provider resources, by
// the tool's integration name.
var selectionTerms = map[string]toolTerms{
	tableau.Tool.Name: {label: tableau.Tool.Label, where: "the Tableau site", secret: "token",
		folder:    selectionKind{"folder_ids", "folder", "dbtexposures_tableau_projects (projects[*].id)"},
		dashboard: selectionKind{"workbook_ids", "workbook", "dbtexposures_tableau_workbooks (workbooks[*].id)"},
		fix: "If the connection's Tableau token was revoked or has expired, send a new one: set token_wo to the new secret and bump " +
			"token_wo_version on the dbtexposures_tableau_connection (or change its token), then apply; this plan works meanwhile. " +
			"If the site moved, fix host or site_id there."},
	powerbi.Tool.Name: {label: powerbi.Tool.Label, where: "the Power BI tenant", secret: "client secret",
		folder:    selectionKind{"folder_ids", "workspace", "dbtexposures_powerbi_workspaces (workspaces[*].id)"},
		dashboard: selectionKind{"report_ids", "report", "dbtexposures_powerbi_reports (reports[*].id)"},
		fix: "If the connection's client secret was revoked or has expired, send a new one: set client_secret_wo to the new secret and bump " +
			"client_secret_wo_version on the dbtexposures_powerbi_connection (or change its client_secret), then apply; this plan works meanwhile. " +
			"If the app registration changed, fix tenant_id or client_id there."},
}

// termsFor is the terms of a connection's tool (its integration name); an
// unknown tool, when the connection could not be read, speaks of Tableau.
func termsFor(tool string) toolTerms {
	if t, ok := selectionTerms[tool]; ok {
		return t
	}
	return selectionTerms[tableau.Tool.Name]
}

func (t toolTerms) kindOf(typ dbtcloud.ItemType) selectionKind {
	if typ == dbtcloud.ItemFolder {
		return t.folder
	}
	return t.dashboard
}

// resolve looks the desired identifiers up in the tree; unknown or mistyped ones
// are attribute errors. known (from state) names items the tool no longer has.
func resolve(tree *collectionsTree, want map[string]dbtcloud.ItemType, known map[string]pickedItem, diags *diag.Diagnostics) []pickedItem {
	t := termsFor(tree.tool)
	missing := map[dbtcloud.ItemType][]string{}
	var items []pickedItem
	for id, typ := range want {
		it, ok := tree.items[id]
		k := t.kindOf(typ)
		switch {
		case !ok && known[id].Name != "":
			diags.AddAttributeError(path.Root(k.argument), "Selected item deleted in "+t.label,
				fmt.Sprintf("%s %q (%s) was selected but no longer exists in %s of this connection: it was deleted, or the connection's %s can no longer see it. "+
					"Remove %q from %s; the apply will then unwatch it.", strings.ToUpper(k.noun[:1])+k.noun[1:], known[id].Name, id, t.where, t.secret, id, k.argument))
		case !ok:
			missing[typ] = append(missing[typ], id)
		case it.Type != typ:
			actual := t.kindOf(it.Type)
			diags.AddAttributeError(path.Root(k.argument), "Identifier of the wrong kind",
				fmt.Sprintf("%q is the %s %q in %s, not a %s: move it to %s.", id, actual.noun, it.Name, t.label, k.noun, actual.argument))
		default:
			items = append(items, pickedItem{dbtcloud.WatchSelectionItem{Identifier: id, Name: it.Name, Type: it.Type}, tree.path(id)})
		}
	}
	for typ, ids := range missing {
		sort.Strings(ids)
		k := t.kindOf(typ)
		diags.AddAttributeError(path.Root(k.argument), "Unknown "+t.label+" identifiers",
			fmt.Sprintf("These identifiers are not in %s of this connection: %s. They may be mistyped, deleted in %s, or not visible to the connection's %s. "+
				"Use IDs from the %s data source, or remove them.", t.where, strings.Join(ids, ", "), t.label, t.secret, k.source))
	}
	return items
}

// selectedItem is one element of `selected`.
type selectedItem struct {
	Identifier types.String `tfsdk:"identifier"`
	Name       types.String `tfsdk:"name"`
	Path       types.String `tfsdk:"path"`
	Type       types.String `tfsdk:"type"`
}

// stateItems reads a model's selection back as items by identifier.
func stateItems(ctx context.Context, m *selectionModel, diags *diag.Diagnostics) map[string]pickedItem {
	out := map[string]pickedItem{}
	if m.Selected.IsNull() || m.Selected.IsUnknown() {
		return out
	}
	var items []selectedItem
	diags.Append(m.Selected.ElementsAs(ctx, &items, false)...)
	for _, it := range items {
		out[it.Identifier.ValueString()] = pickedItem{dbtcloud.WatchSelectionItem{Identifier: it.Identifier.ValueString(), Name: it.Name.ValueString(),
			Type: dbtcloud.ItemType(it.Type.ValueString())}, it.Path.ValueString()}
	}
	return out
}

func selectedValue(items []pickedItem) types.Set {
	vals := make([]attr.Value, 0, len(items))
	for _, it := range items {
		vals = append(vals, types.ObjectValueMust(selectedItemType.AttrTypes, map[string]attr.Value{
			"identifier": types.StringValue(it.Identifier), "name": types.StringValue(it.Name), "path": types.StringValue(it.Path),
			"type": types.StringValue(string(it.Type)),
		}))
	}
	return types.SetValueMust(selectedItemType, vals)
}

// ModifyPlan fills `selected` with names and paths, so the plan says what is
// imported (through the provider's discovery when the connection is created
// in the same apply), and fails on identifiers the tool does not have, on a
// second selection for the same connection, and on creating over a selection
// made elsewhere.
func (r *autoExposureSelectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var plan selectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.ProjectID.IsUnknown() || plan.FolderIDs.IsUnknown() ||
		plan.WorkbookIDs.IsUnknown() || plan.ReportIDs.IsUnknown() {
		return // the IDs are known only after apply
	}
	if plan.ConnectionID.IsUnknown() {
		r.planByDiscovery(ctx, &plan, resp) // the connection is created in this apply
		return
	}
	if !r.claim(&plan, &resp.Diagnostics) {
		return
	}
	creating := req.State.Raw.IsNull()
	unchanged := false
	known := map[string]pickedItem{}
	if !creating {
		var state selectionModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		known = stateItems(ctx, &state, &resp.Diagnostics)
		unchanged = plan.FolderIDs.Equal(state.FolderIDs) && plan.WorkbookIDs.Equal(state.WorkbookIDs) && plan.ReportIDs.Equal(state.ReportIDs) &&
			plan.ProjectID.Equal(state.ProjectID) && plan.ConnectionID.Equal(state.ConnectionID)
	}
	if unchanged && !r.trees.walked(plan.key()) {
		return // nothing changed and nothing was refreshed (-refresh=false): no walk, no request
	}
	tree, err := r.trees.get(ctx, r.client, plan.ProjectID.ValueInt64(), plan.ConnectionID.ValueInt64())
	switch {
	case err == nil:
	case dbtcloud.IsNotFound(err) && creating:
		return // the connection may be created in this same apply
	case biUnreadable(err):
		r.planBlind(ctx, &plan, unchanged, err, resp)
		return
	default:
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the connection's folders", plan.subject(), inConnectionTerms(err)))
		return
	}
	want := plan.desired(ctx, termsFor(tree.tool), &resp.Diagnostics)
	// Validate on every plan, so that a selected item deleted in Tableau is named
	// even when the configuration did not change.
	items := resolve(tree, want, known, &resp.Diagnostics)
	if creating {
		foreignWatches(tree, want, &plan, &resp.Diagnostics)
		r.agreeWithDiscovery(ctx, &plan, items, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() || unchanged {
		return // unchanged: keep the state's `selected`
	}
	plan.Selected = selectedValue(items)
	plan.ID = types.StringValue(plan.key())
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// claim records that this selection manages its connection in this run; a
// second selection of the same connection is an error.
func (r *autoExposureSelectionResource) claim(plan *selectionModel, diags *diag.Diagnostics) bool {
	if r.trees.claim(plan.key()) {
		return true
	}
	t := termsFor(r.trees.tool(plan.key())) // known once the other selection's refresh read the connection
	diags.AddAttributeError(path.Root("connection_id"), "Two selections for one connection",
		fmt.Sprintf("More than one dbtexposures_auto_exposure_selection manages the %s connection of %s. Each is authoritative, so they would undo each other on every apply. "+
			"Keep one resource per connection and merge their folder_ids and %s into it.", t.label, plan.subject(), t.dashboard.argument))
	return false
}

// planBlind plans without the BI tool, which dbt Cloud cannot read now: an
// unchanged selection keeps its state; a changed one is applied as configured,
// with names known after apply.
func (r *autoExposureSelectionResource) planBlind(ctx context.Context, plan *selectionModel, unchanged bool, err error, resp *resource.ModifyPlanResponse) {
	r.warnUnreadable(plan, err, &resp.Diagnostics)
	if unchanged {
		return
	}
	t := termsFor(r.trees.tool(plan.key()))
	resp.Diagnostics.AddWarning("Selection names known after apply",
		fmt.Sprintf("The selection of %s changes, but %s cannot be read through dbt Cloud now, so the plan cannot name what it selects: "+
			"`selected` will be known after apply, and the apply needs %s to be readable again.", plan.subject(), t.label, t.label))
	plan.Selected = types.SetUnknown(selectedItemType)
	plan.ID = types.StringValue(plan.key())
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// warnUnreadable says, once per run and connection, that the selection is
// kept as last known because dbt Cloud cannot read the BI tool, and how to fix it.
func (r *autoExposureSelectionResource) warnUnreadable(m *selectionModel, err error, diags *diag.Diagnostics) {
	if !r.trees.firstWarning(m.key()) {
		return
	}
	t := termsFor(r.trees.tool(m.key()))
	diags.AddWarning("dbt Cloud cannot read the connection's "+strings.TrimPrefix(t.where, "the "),
		fmt.Sprintf("dbt Cloud could not read %s through the connection of %s, so the selection keeps its last known state.\n\n%s\n\ndbt Cloud's answer: %s",
			t.label, m.subject(), t.fix, inConnectionTerms(err)))
}

// foreignWatches fails the creation of a selection on a connection that
// already watches items it does not select: someone else's selection, which
// this authoritative resource would silently undo.
func foreignWatches(tree *collectionsTree, want map[string]dbtcloud.ItemType, plan *selectionModel, diags *diag.Diagnostics) {
	t := termsFor(tree.tool)
	var others []string
	for id, it := range tree.watching() {
		if _, ok := want[id]; !ok {
			others = append(others, fmt.Sprintf("%s %q", t.kindOf(it.Type).noun, it.Name))
		}
	}
	if len(others) == 0 {
		return
	}
	sort.Strings(others)
	diags.AddAttributeError(path.Root("connection_id"), "The connection already has a selection",
		fmt.Sprintf("The %s connection of %s already watches items this configuration does not select: %s. They were selected in dbt Cloud's UI or by another configuration, "+
			"and this resource, being authoritative, would unwatch them. To manage the existing selection here, import it:\n\n"+
			"  terraform import dbtexposures_auto_exposure_selection.<name> %s\n\n"+
			"where <name> is this resource's name in your configuration; or add the items to folder_ids and %s.",
			t.label, plan.subject(), strings.Join(others, ", "), plan.key(), t.dashboard.argument))
}

// converge makes the connection watch exactly what m selects, with the fewest
// changes. Invalid selections are added to diags; API failures are returned.
// prior is the state before (nil on create): items it selected that the tool
// no longer has are unwatched too, so no stale watch is left behind.
func (r *autoExposureSelectionResource) converge(ctx context.Context, m *selectionModel, prior map[string]pickedItem, diags *diag.Diagnostics) error {
	pid, cid := m.ProjectID.ValueInt64(), m.ConnectionID.ValueInt64()
	r.trees.invalidate(pid, cid) // act on what is true now, not on what the plan saw
	tree, err := r.trees.get(ctx, r.client, pid, cid)
	if err != nil {
		return err
	}
	want := m.desired(ctx, termsFor(tree.tool), diags)
	if diags.HasError() {
		return nil
	}
	items := resolve(tree, want, prior, diags)
	if prior == nil {
		foreignWatches(tree, want, m, diags)
	}
	if !diags.HasError() {
		checkNamed(m, m.Selected, items, diags)
	}
	if diags.HasError() {
		return nil
	}
	change := dbtcloud.SelectionChange{}
	current := tree.watching()
	for id, it := range prior {
		if _, inTree := tree.items[id]; !inTree {
			current[id] = dbtcloud.TreeItem{WatchSelectionItem: it.WatchSelectionItem}
		}
	}
	for _, it := range items {
		if _, ok := current[it.Identifier]; !ok {
			change.ToAdd = append(change.ToAdd, it.WatchSelectionItem)
		}
	}
	for id := range current {
		if _, ok := want[id]; !ok {
			change.ToRemove = append(change.ToRemove, id)
		}
	}
	sort.Strings(change.ToRemove)
	if len(change.ToAdd)+len(change.ToRemove) > 0 {
		_, err = r.client.UpdateSelections(ctx, pid, cid, change)
		r.trees.invalidate(pid, cid)
		if err != nil {
			return err
		}
	}
	m.ID = types.StringValue(m.key())
	m.Selected = selectedValue(items)
	return nil
}

func (r *autoExposureSelectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan selectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.converge(ctx, &plan, nil, &resp.Diagnostics); err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("set the auto-exposure selection", plan.subject(), inConnectionTerms(err)))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *autoExposureSelectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state selectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.converge(ctx, &plan, stateItems(ctx, &state, &resp.Diagnostics), &resp.Diagnostics); err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("update the auto-exposure selection", plan.subject(), inConnectionTerms(err)))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read reports everything the connection watches, wherever it was selected.
// When dbt Cloud cannot read the BI tool, the state is kept as it was, with a warning.
func (r *autoExposureSelectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tree, err := r.trees.get(ctx, r.client, state.ProjectID.ValueInt64(), state.ConnectionID.ValueInt64())
	switch {
	case dbtcloud.IsNotFound(err):
		resp.Diagnostics.AddWarning("Connection not found",
			fmt.Sprintf("The connection of this selection (%s) no longer exists in dbt Cloud; the selection was removed from state.", state.subject()))
		resp.State.RemoveResource(ctx)
		return
	case biUnreadable(err):
		r.warnUnreadable(&state, err, &resp.Diagnostics)
		return
	case err != nil:
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the auto-exposure selection", state.subject(), inConnectionTerms(err)))
		return
	}
	var folders, dashboards []attr.Value
	var items []pickedItem
	add := func(it pickedItem) {
		items = append(items, it)
		if it.Type == dbtcloud.ItemFolder {
			folders = append(folders, types.StringValue(it.Identifier))
		} else {
			dashboards = append(dashboards, types.StringValue(it.Identifier))
		}
	}
	for id, it := range tree.watching() {
		add(pickedItem{it.WatchSelectionItem, tree.path(id)})
	}
	// An item selected before that the tool no longer has at all was deleted
	// there. It stays in state under its last name, so the plan shows it leaving
	// (or, if the configuration still names it, fails and says so) and the apply
	// unwatches it, rather than a stale watch hiding on the server.
	for id, it := range stateItems(ctx, &state, &resp.Diagnostics) {
		if _, inTree := tree.items[id]; !inTree {
			add(it)
		}
	}
	state.FolderIDs = types.SetValueMust(types.StringType, folders)
	state.WorkbookIDs = types.SetValueMust(types.StringType, nil)
	state.ReportIDs = types.SetValueMust(types.StringType, nil)
	if termsFor(tree.tool).dashboard.argument == "report_ids" {
		state.ReportIDs = types.SetValueMust(types.StringType, dashboards)
	} else {
		state.WorkbookIDs = types.SetValueMust(types.StringType, dashboards)
	}
	state.Selected = selectedValue(items)
	state.ID = types.StringValue(state.key())
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete unwatches everything the state holds: the resource is authoritative
// for the connection, and the refresh before a destroy has put every watched
// item in state. It does not read the BI tool, so it works while that cannot be read.
func (r *autoExposureSelectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var folders, workbooks, reports []string
	resp.Diagnostics.Append(state.FolderIDs.ElementsAs(ctx, &folders, false)...)
	resp.Diagnostics.Append(state.WorkbookIDs.ElementsAs(ctx, &workbooks, false)...)
	if !state.ReportIDs.IsNull() {
		resp.Diagnostics.Append(state.ReportIDs.ElementsAs(ctx, &reports, false)...)
	}
	ids := map[string]bool{}
	for _, id := range append(append(folders, workbooks...), reports...) {
		ids[id] = true
	}
	for id := range stateItems(ctx, &state, &resp.Diagnostics) {
		ids[id] = true
	}
	if resp.Diagnostics.HasError() || len(ids) == 0 {
		return
	}
	change := dbtcloud.SelectionChange{}
	for id := range ids {
		change.ToRemove = append(change.ToRemove, id)
	}
	sort.Strings(change.ToRemove)
	pid, cid := state.ProjectID.ValueInt64(), state.ConnectionID.ValueInt64()
	// A connection that is gone took its selection with it: nothing to clear.
	if _, err := r.client.UpdateSelections(ctx, pid, cid, change); err != nil && !dbtcloud.IsNotFound(err) {
		resp.Diagnostics.Append(diagnostics.DBTCloud("clear the auto-exposure selection", state.subject(), inConnectionTerms(err)))
	}
	r.trees.invalidate(pid, cid)
}

func (r *autoExposureSelectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTwoPartID(ctx, req, resp, "connection_id")
}
