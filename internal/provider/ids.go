package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// twoPartID is "<project_id>:<integration_id>": the resources' id and import ID.
func twoPartID(projectID, integrationID int64) string {
	return fmt.Sprintf("%d:%d", projectID, integrationID)
}

// parseTwoPartID parses "<a>:<b>" where both are positive integers.
func parseTwoPartID(id string) (int64, int64, error) {
	parts := strings.Split(id, ":")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("the ID must have exactly two parts separated by a colon")
	}
	var out [2]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || n < 1 {
			return 0, 0, fmt.Errorf("part %d (%q) must be a positive whole number", i+1, p)
		}
		out[i] = n
	}
	return out[0], out[1], nil
}

// subject names a connection in messages: its project, and its integration
// (connection) ID once known.
func subject(projectID, integrationID types.Int64) string {
	if integrationID.IsNull() || integrationID.IsUnknown() {
		return fmt.Sprintf("project %d", projectID.ValueInt64())
	}
	return fmt.Sprintf("project %d, connection %d", projectID.ValueInt64(), integrationID.ValueInt64())
}

// importTwoPartID reads the import ID "<project_id>:<second>" into id,
// project_id and the attribute named second (integration_id, environment_id…).
func importTwoPartID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse, second string) {
	projectID, secondID, err := parseTwoPartID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected \"<project_id>:<%s>\", for example \"123:456\"; got %q. %s", second, req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), twoPartID(projectID, secondID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), projectID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(second), secondID)...)
}
