package provider

import (
	"fmt"
	"strconv"
	"strings"

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
