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
)

var (
	_ resource.ResourceWithConfigure    = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithImportState  = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithModifyPlan   = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithUpgradeState = (*autoExposureSelectionResource)(nil)
)

// NewAutoExposureSelectionResource is dbtexposures_auto_exposure_selection:
// which Tableau folders and workbooks a connection imports as exposures.
func NewAutoExposureSelectionResource() resource.Resource { return &autoExposureSelectionResource{} }

type autoExposureSelectionResource struct {
	client *dbtcloud.Client
	trees  *treeCache
}

type selectionModel struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.Int64  `tfsdk:"project_id"`
	ConnectionID types.Int64  `tfsdk:"connection_id"`
	FolderIDs    types.Set    `tfsdk:"folder_ids"`
	WorkbookIDs  types.Set    `tfsdk:"workbook_ids"`
	Selected     types.Set    `tfsdk:"selected"`
}

var selectedItemType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"identifier": types.StringType, "name": types.StringType, "type": types.StringType,
}}

func (r *autoExposureSelectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_auto_exposure_selection"
}

// selectionSchemaVersion 1 made `selected` a set, so plans show items added and
// removed rather than renames by position; version 0 states are upgraded.
const selectionSchemaVersion = 1

func (r *autoExposureSelectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Version: selectionSchemaVersion,
		MarkdownDescription: "Which Tableau folders (projects) and workbooks a Tableau connection imports as dbt auto-exposures. " +
			"The resource is **authoritative** for the connection: items watched outside Terraform (for example in dbt Cloud's UI) " +
			"show as drift and are unwatched on apply, and destroying the resource unwatches everything. One resource owns a " +
			"connection: two in one configuration fail the plan, and creating one on a connection that already watches other items " +
			"fails with the `terraform import` command that takes that selection over.\n\n" +
			"The plan lists the selection by name in `selected`, a set, so a plan shows each item added or removed. Identifiers " +
			"that do not exist in Tableau fail the plan with the list of them. A selected workbook or folder that is deleted in " +
			"Tableau disappears from the connection: when the selection comes from the discovery data sources the plan simply " +
			"shows it leaving `selected`; when its ID is written in the configuration the plan fails and names it, so remove it there.\n\n" +
			"When dbt Cloud cannot read Tableau (a revoked or expired token, an unreachable site), refresh and plan keep the last " +
			"known selection and warn, so the fix (a new `token_wo` with a bumped `token_wo_version` on the connection) applies; " +
			"a changed selection then shows its names as known after apply. Destroying the resource unwatches what its state " +
			"holds without reading Tableau.\n\n" +
			"Cost per plan: one collections request per Tableau folder of the connection, plus one for the top (the tree is walked " +
			"once per run however many steps need it, at most eight requests at a time, within the provider's " +
			"`max_requests_per_minute`); none with `-refresh=false` when neither the configuration nor the state changed; and one " +
			"selections request per apply that changes something. At the default 1,000 requests a minute a 2,000-folder " +
			"connection costs about two minutes of plan, well inside dbt Cloud's 5,000 a minute per account.",
		Attributes: selectionAttributes(schema.SetNestedAttribute{
			Computed:            true,
			MarkdownDescription: "The selection by name: what a reviewer reads in the plan.",
			NestedObject:        selectedItemObject(),
		}),
	}
}

func selectedItemObject() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"identifier": schema.StringAttribute{Computed: true, MarkdownDescription: "Tableau LUID."},
		"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Folder or workbook name."},
		"type":       schema.StringAttribute{Computed: true, MarkdownDescription: "`folder` or `dashboard` (a workbook)."},
	}}
}

// selectionAttributes are the schema's attributes around `selected`, which
// changed shape between versions.
func selectionAttributes(selected schema.Attribute) map[string]schema.Attribute {
	empty := types.SetValueMust(types.StringType, nil)
	return map[string]schema.Attribute{
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
			Required: true, MarkdownDescription: "The Tableau connection's `integration_id` (from `dbtexposures_tableau_connection`). Changing it replaces the resource.",
			PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			Validators:    []validator.Int64{int64validator.AtLeast(1)},
		},
		"folder_ids": schema.SetAttribute{
			Optional: true, Computed: true, ElementType: types.StringType, Default: setdefault.StaticValue(empty),
			MarkdownDescription: "LUIDs of Tableau projects to watch: every workbook in them is imported. See `dbtexposures_tableau_projects`.",
		},
		"workbook_ids": schema.SetAttribute{
			Optional: true, Computed: true, ElementType: types.StringType, Default: setdefault.StaticValue(empty),
			MarkdownDescription: "LUIDs of Tableau workbooks to watch. See `dbtexposures_tableau_workbooks`.",
		},
		"selected": selected,
	}
}

func (r *autoExposureSelectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
	if pd := providerDataFrom(req.ProviderData, &resp.Diagnostics); pd != nil {
		r.trees = &pd.trees
	}
}

// desired reads folder_ids and workbook_ids as identifier -> type.
func (m *selectionModel) desired(ctx context.Context, diags *diag.Diagnostics) map[string]dbtcloud.ItemType {
	var folders, workbooks []string
	diags.Append(m.FolderIDs.ElementsAs(ctx, &folders, false)...)
	diags.Append(m.WorkbookIDs.ElementsAs(ctx, &workbooks, false)...)
	out := map[string]dbtcloud.ItemType{}
	for _, f := range folders {
		out[f] = dbtcloud.ItemFolder
	}
	for _, w := range workbooks {
		if out[w] == dbtcloud.ItemFolder {
			diags.AddAttributeError(path.Root("workbook_ids"), "Identifier in both folder_ids and workbook_ids", fmt.Sprintf("%q is listed in both; keep it in one.", w))
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

func kindOf(t dbtcloud.ItemType) selectionKind {
	if t == dbtcloud.ItemFolder {
		return selectionKind{"folder_ids", "folder", "dbtexposures_tableau_projects (projects[*].id)"}
	}
	return selectionKind{"workbook_ids", "workbook", "dbtexposures_tableau_workbooks (workbooks[*].id)"}
}

// resolve looks the desired identifiers up in the tree; unknown or mistyped ones
// are attribute errors. known (from state) names items Tableau no longer has.
func resolve(tree *collectionsTree, want map[string]dbtcloud.ItemType, known map[string]dbtcloud.WatchSelectionItem, diags *diag.Diagnostics) []dbtcloud.WatchSelectionItem {
	missing := map[dbtcloud.ItemType][]string{}
	var items []dbtcloud.WatchSelectionItem
	for id, typ := range want {
		it, ok := tree.items[id]
		k := kindOf(typ)
		switch {
		case !ok && known[id].Name != "":
			diags.AddAttributeError(path.Root(k.argument), "Selected item deleted in Tableau",
				fmt.Sprintf("%s %q (%s) was selected but no longer exists in the Tableau site of this connection: it was deleted, or the connection's token can no longer see it. "+
					"Remove %q from %s; the apply will then unwatch it.", strings.ToUpper(k.noun[:1])+k.noun[1:], known[id].Name, id, id, k.argument))
		case !ok:
			missing[typ] = append(missing[typ], id)
		case it.Type != typ:
			actual := kindOf(it.Type)
			diags.AddAttributeError(path.Root(k.argument), "Identifier of the wrong kind",
				fmt.Sprintf("%q is the %s %q in Tableau, not a %s: move it to %s.", id, actual.noun, it.Name, k.noun, actual.argument))
		default:
			items = append(items, dbtcloud.WatchSelectionItem{Identifier: id, Name: it.Name, Type: it.Type})
		}
	}
	for typ, ids := range missing {
		sort.Strings(ids)
		k := kindOf(typ)
		diags.AddAttributeError(path.Root(k.argument), "Unknown Tableau identifiers",
			fmt.Sprintf("These identifiers are not in the Tableau site of this connection: %s. They may be mistyped, deleted in Tableau, or not visible to the connection's token. "+
				"Use IDs from the %s data source, or remove them.", strings.Join(ids, ", "), k.source))
	}
	return items
}

// selectedItem is one element of `selected`.
type selectedItem struct {
	Identifier types.String `tfsdk:"identifier"`
	Name       types.String `tfsdk:"name"`
	Type       types.String `tfsdk:"type"`
}

// stateItems reads a model's selection back as items by identifier.
func stateItems(ctx context.Context, m *selectionModel, diags *diag.Diagnostics) map[string]dbtcloud.WatchSelectionItem {
	out := map[string]dbtcloud.WatchSelectionItem{}
	if m.Selected.IsNull() || m.Selected.IsUnknown() {
		return out
	}
	var items []selectedItem
	diags.Append(m.Selected.ElementsAs(ctx, &items, false)...)
	for _, it := range items {
		out[it.Identifier.ValueString()] = dbtcloud.WatchSelectionItem{Identifier: it.Identifier.ValueString(), Name: it.Name.ValueString(), Type: dbtcloud.ItemType(it.Type.ValueString())}
	}
	return out
}

func selectedValue(items []dbtcloud.WatchSelectionItem) types.Set {
	vals := make([]attr.Value, 0, len(items))
	for _, it := range items {
		vals = append(vals, types.ObjectValueMust(selectedItemType.AttrTypes, map[string]attr.Value{
			"identifier": types.StringValue(it.Identifier), "name": types.StringValue(it.Name), "type": types.StringValue(string(it.Type)),
		}))
	}
	return types.SetValueMust(selectedItemType, vals)
}

// ModifyPlan fills `selected` with names, so the plan says what is imported,
// and fails on identifiers Tableau does not have, on a second selection for
// the same connection, and on creating over a selection made elsewhere.
func (r *autoExposureSelectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var plan selectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.ProjectID.IsUnknown() || plan.ConnectionID.IsUnknown() || plan.FolderIDs.IsUnknown() || plan.WorkbookIDs.IsUnknown() {
		return // the connection or the IDs are known only after apply
	}
	if !r.trees.claim(plan.key()) {
		resp.Diagnostics.AddAttributeError(path.Root("connection_id"), "Two selections for one connection",
			fmt.Sprintf("More than one dbtexposures_auto_exposure_selection manages the Tableau connection of %s. Each is authoritative, so they would undo each other on every apply. "+
				"Keep one resource per connection and merge their folder_ids and workbook_ids into it.", plan.subject()))
		return
	}
	creating := req.State.Raw.IsNull()
	unchanged := false
	known := map[string]dbtcloud.WatchSelectionItem{}
	if !creating {
		var state selectionModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		known = stateItems(ctx, &state, &resp.Diagnostics)
		unchanged = plan.FolderIDs.Equal(state.FolderIDs) && plan.WorkbookIDs.Equal(state.WorkbookIDs) &&
			plan.ProjectID.Equal(state.ProjectID) && plan.ConnectionID.Equal(state.ConnectionID)
	}
	if unchanged && !r.trees.walked(plan.key()) {
		return // nothing changed and nothing was refreshed (-refresh=false): no walk, no request
	}
	want := plan.desired(ctx, &resp.Diagnostics)
	tree, err := r.trees.get(ctx, r.client, plan.ProjectID.ValueInt64(), plan.ConnectionID.ValueInt64())
	switch {
	case err == nil:
	case dbtcloud.IsNotFound(err) && creating:
		return // the connection may be created in this same apply
	case biUnreadable(err):
		r.planBlind(ctx, &plan, unchanged, err, resp)
		return
	default:
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the connection's Tableau folders", plan.subject(), inConnectionTerms(err)))
		return
	}
	// Validate on every plan, so that a selected item deleted in Tableau is named
	// even when the configuration did not change.
	items := resolve(tree, want, known, &resp.Diagnostics)
	if creating {
		foreignWatches(tree, want, &plan, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() || unchanged {
		return // unchanged: keep the state's `selected`
	}
	plan.Selected = selectedValue(items)
	plan.ID = types.StringValue(plan.key())
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// planBlind plans without Tableau, which dbt Cloud cannot read now: an
// unchanged selection keeps its state; a changed one is applied as configured,
// with names known after apply.
func (r *autoExposureSelectionResource) planBlind(ctx context.Context, plan *selectionModel, unchanged bool, err error, resp *resource.ModifyPlanResponse) {
	r.warnUnreadable(plan, err, &resp.Diagnostics)
	if unchanged {
		return
	}
	resp.Diagnostics.AddWarning("Selection names known after apply",
		fmt.Sprintf("The selection of %s changes, but Tableau cannot be read through dbt Cloud now, so the plan cannot name what it selects: "+
			"`selected` will be known after apply, and the apply needs Tableau to be readable again.", plan.subject()))
	plan.Selected = types.SetUnknown(selectedItemType)
	plan.ID = types.StringValue(plan.key())
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// warnUnreadable says, once per run and connection, that the selection is
// kept as last known because dbt Cloud cannot read Tableau, and how to fix it.
func (r *autoExposureSelectionResource) warnUnreadable(m *selectionModel, err error, diags *diag.Diagnostics) {
	if !r.trees.firstWarning(m.key()) {
		return
	}
	diags.AddWarning("dbt Cloud cannot read the connection's Tableau site",
		fmt.Sprintf("dbt Cloud could not read Tableau through the connection of %s, so the selection keeps its last known state.\n\n"+
			"If the connection's Tableau token was revoked or has expired, send a new one: set token_wo to the new secret and bump "+
			"token_wo_version on the dbtexposures_tableau_connection (or change its token), then apply; this plan works meanwhile. "+
			"If the site moved, fix host or site_id there.\n\nError: %s", m.subject(), inConnectionTerms(err)))
}

// foreignWatches fails the creation of a selection on a connection that
// already watches items it does not select: someone else's selection, which
// this authoritative resource would silently undo.
func foreignWatches(tree *collectionsTree, want map[string]dbtcloud.ItemType, plan *selectionModel, diags *diag.Diagnostics) {
	var others []string
	for id, it := range tree.watching() {
		if _, ok := want[id]; !ok {
			others = append(others, fmt.Sprintf("%s %q", kindOf(it.Type).noun, it.Name))
		}
	}
	if len(others) == 0 {
		return
	}
	sort.Strings(others)
	diags.AddAttributeError(path.Root("connection_id"), "The connection already has a selection",
		fmt.Sprintf("The Tableau connection of %s already watches items this configuration does not select: %s. They were selected in dbt Cloud's UI or by another configuration, "+
			"and this resource, being authoritative, would unwatch them. To manage the existing selection here, import it:\n\n"+
			"  terraform import dbtexposures_auto_exposure_selection.<name> %s\n\n"+
			"where <name> is this resource's name in your configuration; or add the items to folder_ids and workbook_ids.",
			plan.subject(), strings.Join(others, ", "), plan.key()))
}

// converge makes the connection watch exactly what m selects, with the fewest
// changes. Invalid selections are added to diags; API failures are returned.
// prior is the state before (nil on create): items it selected that Tableau no
// longer has are unwatched too, so no stale watch is left behind.
func (r *autoExposureSelectionResource) converge(ctx context.Context, m *selectionModel, prior map[string]dbtcloud.WatchSelectionItem, diags *diag.Diagnostics) error {
	want := m.desired(ctx, diags)
	if diags.HasError() {
		return nil
	}
	pid, cid := m.ProjectID.ValueInt64(), m.ConnectionID.ValueInt64()
	r.trees.invalidate(pid, cid) // act on what is true now, not on what the plan saw
	tree, err := r.trees.get(ctx, r.client, pid, cid)
	if err != nil {
		return err
	}
	items := resolve(tree, want, prior, diags)
	if prior == nil {
		foreignWatches(tree, want, m, diags)
	}
	if diags.HasError() {
		return nil
	}
	change := dbtcloud.SelectionChange{}
	current := tree.watching()
	for id, it := range prior {
		if _, inTree := tree.items[id]; !inTree {
			current[id] = dbtcloud.TreeItem{WatchSelectionItem: it}
		}
	}
	for _, it := range items {
		if _, ok := current[it.Identifier]; !ok {
			change.ToAdd = append(change.ToAdd, it)
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
// When dbt Cloud cannot read Tableau, the state is kept as it was, with a warning.
func (r *autoExposureSelectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tree, err := r.trees.get(ctx, r.client, state.ProjectID.ValueInt64(), state.ConnectionID.ValueInt64())
	switch {
	case dbtcloud.IsNotFound(err):
		resp.Diagnostics.AddWarning("Tableau connection not found",
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
	var folders, workbooks []attr.Value
	var items []dbtcloud.WatchSelectionItem
	add := func(it dbtcloud.WatchSelectionItem) {
		items = append(items, it)
		if it.Type == dbtcloud.ItemFolder {
			folders = append(folders, types.StringValue(it.Identifier))
		} else {
			workbooks = append(workbooks, types.StringValue(it.Identifier))
		}
	}
	for _, it := range tree.watching() {
		add(it.WatchSelectionItem)
	}
	// An item selected before that Tableau no longer has at all was deleted
	// there. It stays in state under its last name, so the plan shows it leaving
	// (or, if the configuration still names it, fails and says so) and the apply
	// unwatches it, rather than a stale watch hiding on the server.
	for id, it := range stateItems(ctx, &state, &resp.Diagnostics) {
		if _, inTree := tree.items[id]; !inTree {
			add(it)
		}
	}
	state.FolderIDs = types.SetValueMust(types.StringType, folders)
	state.WorkbookIDs = types.SetValueMust(types.StringType, workbooks)
	state.Selected = selectedValue(items)
	state.ID = types.StringValue(state.key())
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete unwatches everything the state holds: the resource is authoritative
// for the connection, and the refresh before a destroy has put every watched
// item in state. It does not read Tableau, so it works while Tableau cannot be read.
func (r *autoExposureSelectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var folders, workbooks []string
	resp.Diagnostics.Append(state.FolderIDs.ElementsAs(ctx, &folders, false)...)
	resp.Diagnostics.Append(state.WorkbookIDs.ElementsAs(ctx, &workbooks, false)...)
	ids := map[string]bool{}
	for _, id := range append(folders, workbooks...) {
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
	projectID, connectionID, err := parseTwoPartID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected \"<project_id>:<connection_id>\", for example \"123:456\"; got %q. %s", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), twoPartID(projectID, connectionID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), projectID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("connection_id"), connectionID)...)
}
