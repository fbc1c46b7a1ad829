package provider

import (
	"context"

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

// noReports is report_ids as an upgraded state has it: empty, as the default
// plans it, so the plan after an upgrade is empty.
var noReports = types.SetValueMust(types.StringType, nil)

// UpgradeState turns the list of version 0 into the set of version 1, and
// adds version 2's empty report_ids; the items themselves are unchanged, so
// the plan after an upgrade is empty.
func (r *autoExposureSelectionResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	v0 := schema.Schema{Attributes: selectionAttributes(schema.ListNestedAttribute{Computed: true, NestedObject: selectedItemObject()}, false)}
	v1 := schema.Schema{Attributes: selectionAttributes(schema.SetNestedAttribute{Computed: true, NestedObject: selectedItemObject()}, false)}
	return map[int64]resource.StateUpgrader{
		1: {
			PriorSchema: &v1,
			StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
				var old selectionModelV1
				resp.Diagnostics.Append(req.State.Get(ctx, &old)...)
				if resp.Diagnostics.HasError() {
					return
				}
				resp.Diagnostics.Append(resp.State.Set(ctx, selectionModel{
					ID: old.ID, ProjectID: old.ProjectID, ConnectionID: old.ConnectionID,
					FolderIDs: old.FolderIDs, WorkbookIDs: old.WorkbookIDs, ReportIDs: noReports, Selected: old.Selected,
				})...)
			},
		},
		0: {
			PriorSchema: &v0,
			StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
				var old selectionModelV0
				resp.Diagnostics.Append(req.State.Get(ctx, &old)...)
				if resp.Diagnostics.HasError() {
					return
				}
				selected := types.SetNull(selectedItemType)
				if !old.Selected.IsNull() {
					var d diag.Diagnostics
					selected, d = types.SetValue(selectedItemType, old.Selected.Elements())
					resp.Diagnostics.Append(d...)
				}
				resp.Diagnostics.Append(resp.State.Set(ctx, selectionModel{
					ID: old.ID, ProjectID: old.ProjectID, ConnectionID: old.ConnectionID,
					FolderIDs: old.FolderIDs, WorkbookIDs: old.WorkbookIDs, ReportIDs: noReports, Selected: selected,
				})...)
			},
		},
	}
}
