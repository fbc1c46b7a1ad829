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
	_ resource.ResourceWithConfigure   = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithImportState = (*autoExposureSelectionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*autoExposureSelectionResource)(nil)
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
	Selected     types.List   `tfsdk:"selected"`
}

var selectedItemType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"identifier": types.StringType, "name": types.StringType, "type": types.StringType,
}}

func (r *autoExposureSelectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_auto_exposure_selection"
}

func (r *autoExposureSelectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	empty := types.SetValueMust(types.StringType, nil)
	resp.Schema = schema.Schema{
		MarkdownDescription: "Which Tableau folders (projects) and workbooks a Tableau connection imports as dbt auto-exposures. " +
			"The resource is **authoritative** for the connection: items watched outside Terraform (for example in dbt Cloud's UI) " +
			"show as drift and are unwatched on apply, and destroying the resource unwatches everything.\n\n" +
			"The plan lists the selection by name in `selected`. Identifiers that do not exist in Tableau fail the plan with the list " +
			"of them. A selected workbook or folder that is deleted in Tableau disappears from the connection: when the selection " +
			"comes from the discovery data sources the plan simply shows it leaving `selected`; when its ID is written in the " +
			"configuration the plan fails and names it, so remove it there.",
		Attributes: map[string]schema.Attribute{
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
			"selected": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The selection by name, sorted by name: what a reviewer reads in the plan.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"identifier": schema.StringAttribute{Computed: true, MarkdownDescription: "Tableau LUID."},
					"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Folder or workbook name."},
					"type":       schema.StringAttribute{Computed: true, MarkdownDescription: "`folder` or `dashboard` (a workbook)."},
				}},
			},
		},
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
	sortItems(items)
	return items
}

// stateItems reads a model's selection back as items by identifier.
func stateItems(ctx context.Context, m *selectionModel, diags *diag.Diagnostics) map[string]dbtcloud.WatchSelectionItem {
	out := map[string]dbtcloud.WatchSelectionItem{}
	if m.Selected.IsNull() || m.Selected.IsUnknown() {
		return out
	}
	var items []struct {
		Identifier types.String `tfsdk:"identifier"`
		Name       types.String `tfsdk:"name"`
		Type       types.String `tfsdk:"type"`
	}
	diags.Append(m.Selected.ElementsAs(ctx, &items, false)...)
	for _, it := range items {
		out[it.Identifier.ValueString()] = dbtcloud.WatchSelectionItem{Identifier: it.Identifier.ValueString(), Name: it.Name.ValueString(), Type: dbtcloud.ItemType(it.Type.ValueString())}
	}
	return out
}

func sortItems(items []dbtcloud.WatchSelectionItem) {
	sort.Slice(items, func(i, j int) bool {
		if items[i].Name != items[j].Name {
			return items[i].Name < items[j].Name
		}
		return items[i].Identifier < items[j].Identifier
	})
}

func selectedValue(items []dbtcloud.WatchSelectionItem) types.List {
	vals := make([]attr.Value, 0, len(items))
	for _, it := range items {
		vals = append(vals, types.ObjectValueMust(selectedItemType.AttrTypes, map[string]attr.Value{
			"identifier": types.StringValue(it.Identifier), "name": types.StringValue(it.Name), "type": types.StringValue(string(it.Type)),
		}))
	}
	return types.ListValueMust(selectedItemType, vals)
}

// ModifyPlan fills `selected` with names, so the plan says what is imported,
// and fails on identifiers Tableau does not have.
func (r *autoExposureSelectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var plan selectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.ProjectID.IsUnknown() || plan.ConnectionID.IsUnknown() || plan.FolderIDs.IsUnknown() || plan.WorkbookIDs.IsUnknown() {
		return // the connection or the IDs are known only after apply
	}
	unchanged := false
	known := map[string]dbtcloud.WatchSelectionItem{}
	if !req.State.Raw.IsNull() {
		var state selectionModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		known = stateItems(ctx, &state, &resp.Diagnostics)
		unchanged = plan.FolderIDs.Equal(state.FolderIDs) && plan.WorkbookIDs.Equal(state.WorkbookIDs) &&
			plan.ProjectID.Equal(state.ProjectID) && plan.ConnectionID.Equal(state.ConnectionID)
	}
	want := plan.desired(ctx, &resp.Diagnostics)
	tree, err := r.trees.get(ctx, r.client, plan.ProjectID.ValueInt64(), plan.ConnectionID.ValueInt64())
	if err != nil {
		if dbtcloud.IsNotFound(err) && req.State.Raw.IsNull() {
			return // the connection may be created in this same apply
		}
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the connection's Tableau folders", subject(plan.ProjectID, plan.ConnectionID), err))
		return
	}
	// Validate on every plan, so that a selected item deleted in Tableau is named
	// even when the configuration did not change.
	items := resolve(tree, want, known, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || unchanged {
		return // unchanged: keep the state's `selected`
	}
	plan.Selected = selectedValue(items)
	plan.ID = types.StringValue(twoPartID(plan.ProjectID.ValueInt64(), plan.ConnectionID.ValueInt64()))
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
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
	m.ID = types.StringValue(twoPartID(pid, cid))
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
		resp.Diagnostics.Append(diagnostics.DBTCloud("set the auto-exposure selection", subject(plan.ProjectID, plan.ConnectionID), err))
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
		resp.Diagnostics.Append(diagnostics.DBTCloud("update the auto-exposure selection", subject(plan.ProjectID, plan.ConnectionID), err))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read reports everything the connection watches, wherever it was selected.
func (r *autoExposureSelectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pid, cid := state.ProjectID.ValueInt64(), state.ConnectionID.ValueInt64()
	tree, err := r.trees.get(ctx, r.client, pid, cid)
	if dbtcloud.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Tableau connection not found",
			fmt.Sprintf("The connection of this selection (%s) no longer exists in dbt Cloud; the selection was removed from state.", subject(state.ProjectID, state.ConnectionID)))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the auto-exposure selection", subject(state.ProjectID, state.ConnectionID), err))
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
	sortItems(items)
	state.FolderIDs = types.SetValueMust(types.StringType, folders)
	state.WorkbookIDs = types.SetValueMust(types.StringType, workbooks)
	state.Selected = selectedValue(items)
	state.ID = types.StringValue(twoPartID(pid, cid))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete unwatches everything: the resource is authoritative for the connection.
func (r *autoExposureSelectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state selectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prior := stateItems(ctx, &state, &resp.Diagnostics)
	state.FolderIDs = types.SetValueMust(types.StringType, nil)
	state.WorkbookIDs = types.SetValueMust(types.StringType, nil)
	// A connection that is gone took its selection with it: nothing to clear.
	if err := r.converge(ctx, &state, prior, &resp.Diagnostics); err != nil && !dbtcloud.IsNotFound(err) {
		resp.Diagnostics.Append(diagnostics.DBTCloud("clear the auto-exposure selection", subject(state.ProjectID, state.ConnectionID), err))
	}
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
