package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// toolDataSource is what every BI tool's discovery data source shares: its
// type name and its tool's source, set when the provider is configured.
type toolDataSource[S any] struct {
	typeName string // after the provider's name: "_tableau_projects"
	from     func(any, *diag.Diagnostics) S
	src      S
}

func (d *toolDataSource[S]) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + d.typeName
}

func (d *toolDataSource[S]) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.src = d.from(req.ProviderData, &resp.Diagnostics)
}

// computedStrings are computed string attributes, by name, with their docs.
func computedStrings(docs map[string]string) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(docs))
	for name, doc := range docs {
		out[name] = schema.StringAttribute{Computed: true, MarkdownDescription: doc}
	}
	return out
}
