package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// connectionAttributes are a connection's attributes: the tool's own, the
// secret (what it is, in secretDoc) in its two forms, and the IDs, times and
// status every connection has.
func connectionAttributes(label, secret, secretDoc string, own map[string]schema.Attribute) map[string]schema.Attribute {
	wo := secret + "_wo"
	status, message := statusDoc(label)
	attrs := map[string]schema.Attribute{
		"status":         schema.StringAttribute{Computed: true, MarkdownDescription: status},
		"status_message": schema.StringAttribute{Computed: true, MarkdownDescription: message},
		"id": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "`<project_id>:<integration_id>`, also the import ID.",
			PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"project_id": schema.Int64Attribute{
			Required:            true,
			MarkdownDescription: "ID of the dbt Cloud project. Changing it replaces the connection.",
			PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			Validators:          []validator.Int64{int64validator.AtLeast(1)},
		},
		"integration_id": schema.Int64Attribute{
			Computed:            true,
			MarkdownDescription: "ID of the lineage integration.",
			PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
		},
		secret: schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			MarkdownDescription: secretDoc + ", kept in state. Exactly one of `" + secret + "` and `" + wo + "` is required.",
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		wo: schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			WriteOnly:           true,
			MarkdownDescription: secretDoc + ", write-only: sent to dbt Cloud, never stored in plan or state. Requires Terraform 1.11 or later and `" + wo + "_version`.",
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		wo + "_version": schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: "Version of `" + wo + "`. Terraform cannot see a write-only value change, so change this number to send a new secret.",
		},
		"created_at": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "When the integration was created.",
			PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"updated_at": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "When the integration last changed.",
		},
	}
	for k, v := range own {
		attrs[k] = v
	}
	return attrs
}
