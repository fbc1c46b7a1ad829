package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// selectionModelV0 is the state of schema version 0 (release 0.1.0), where
// `selected` was a list sorted by name.
type selectionModelV0 struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.Int64  `tfsdk:"project_id"`
	ConnectionID types.Int64  `tfsdk:"connection_id"`
	FolderIDs    types.Set    `tfsdk:"folder_ids"`
	WorkbookIDs  types.Set    `tfsdk:"workbook_ids"`
	Selected     types.List   `tfsdk:"selected"`
}

// selectionModelV1 is the state of schema version 1, before report_ids.
type selectionModelV1 struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.Int64  `tfsdk:"project_id"`
	ConnectionID types.Int64  `tfsdk:"connection_id"`
	FolderIDs    types.Set    `tfsdk:"folder_ids"`
	WorkbookIDs  types.Set    `tfsdk:"workbook_ids"`
	Selected     types.Set    `tfsdk:"selected"`
}

// selectionModelV2 is the state of schema version 2, before each selected
// item's path.
type selectionModelV2 struct {
	ID           types.String `tfsdk:"id"`
	ProjectID    types.Int64  `tfsdk:"project_id"`
	ConnectionID types.Int64  `tfsdk:"connection_id"`
	FolderIDs    types.Set    `tfsdk:"folder_ids"`
	WorkbookIDs  types.Set    `tfsdk:"workbook_ids"`
	ReportIDs    types.Set    `tfsdk:"report_ids"`
	Selected     types.Set    `tfsdk:"selected"`
}

// noReports is report_ids as an upgraded state has it: empty, as the default
// plans it, so the plan after an upgrade is empty.
var noReports = types.SetValueMust(types.StringType, nil)

// withPaths is an older state's `selected` items, each with a null path: the
// path is not known until the next refresh reads the connection's tree.
func withPaths(items []attr.Value, isNull bool, diags *diag.Diagnostics) types.Set {
	if isNull {
		return types.SetNull(selectedItemType)
	}
	out := make([]attr.Value, 0, len(items))
	for _, v := range items {
		obj, ok := v.(types.Object)
		if !ok {
			continue
		}
		attrs := maps.Clone(obj.Attributes())
		attrs["path"] = types.StringNull()
		o, d := types.ObjectValue(selectedItemType.AttrTypes, attrs)
		diags.Append(d...)
		out = append(out, o)
	}
	set, d := types.SetValue(selectedItemType, out)
	diags.Append(d...)
	return set
}

// upgrader reads a prior version's state into M and builds the current one.
func upgrader[M any](prior schema.Schema, current func(M, *diag.Diagnostics) selectionModel) resource.StateUpgrader {
	return resource.StateUpgrader{
		PriorSchema: &prior,
		StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			var old M
			resp.Diagnostics.Append(req.State.Get(ctx, &old)...)
			if resp.Diagnostics.HasError() {
				return
			}
			m := current(old, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
		},
	}
}

// UpgradeState turns version 0's list into a set, adds version 2's empty
// report_ids and version 3's paths (null until the next refresh); the items
// are otherwise unchanged, so the plan after an upgrade is empty.
func (r *autoExposureSelectionResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	item := selectedItemObjectV2()
	v0 := schema.Schema{Attributes: selectionAttributes(schema.ListNestedAttribute{Computed: true, NestedObject: item}, false)}
	v1 := schema.Schema{Attributes: selectionAttributes(schema.SetNestedAttribute{Computed: true, NestedObject: item}, false)}
	v2 := schema.Schema{Attributes: selectionAttributes(schema.SetNestedAttribute{Computed: true, NestedObject: item}, true)}
	return map[int64]resource.StateUpgrader{
		2: upgrader(v2, func(old selectionModelV2, d *diag.Diagnostics) selectionModel {
			return selectionModel{ID: old.ID, ProjectID: old.ProjectID, ConnectionID: old.ConnectionID, FolderIDs: old.FolderIDs,
				WorkbookIDs: old.WorkbookIDs, ReportIDs: old.ReportIDs, Selected: withPaths(old.Selected.Elements(), old.Selected.IsNull(), d)}
		}),
		1: upgrader(v1, func(old selectionModelV1, d *diag.Diagnostics) selectionModel {
			return selectionModel{ID: old.ID, ProjectID: old.ProjectID, ConnectionID: old.ConnectionID, FolderIDs: old.FolderIDs,
				WorkbookIDs: old.WorkbookIDs, ReportIDs: noReports, Selected: withPaths(old.Selected.Elements(), old.Selected.IsNull(), d)}
		}),
		0: upgrader(v0, func(old selectionModelV0, d *diag.Diagnostics) selectionModel {
			return selectionModel{ID: old.ID, ProjectID: old.ProjectID, ConnectionID: old.ConnectionID, FolderIDs: old.FolderIDs,
				WorkbookIDs: old.WorkbookIDs, ReportIDs: noReports, Selected: withPaths(old.Selected.Elements(), old.Selected.IsNull(), d)}
		}),
	}
}
