package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

// rowsDataSource is a discovery data source whose one computed attribute
// lists a tool's objects as rows of strings: Tableau's projects, Power BI's
// workspaces. The tool gives the docs and reads the rows.
type rowsDataSource[S any] struct {
	toolDataSource[S]
	doc     string            // the data source's description
	list    string            // the listed attribute: "projects"
	listDoc string            // its description, with the order
	columns map[string]string // each row's attributes, with their docs
	rows    func(context.Context, S, *diag.Diagnostics) []map[string]types.String
}

func (d *rowsDataSource[S]) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: d.doc,
		Attributes: map[string]schema.Attribute{d.list: schema.ListNestedAttribute{
			Computed:            true,
			MarkdownDescription: d.listDoc,
			NestedObject:        schema.NestedAttributeObject{Attributes: computedStrings(d.columns)},
		}},
	}
}

func (d *rowsDataSource[S]) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	rows := d.rows(ctx, d.src, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rowType := make(map[string]attr.Type, len(d.columns))
	for name := range d.columns {
		rowType[name] = types.StringType
	}
	objects := make([]attr.Value, 0, len(rows))
	for _, row := range rows {
		values := make(map[string]attr.Value, len(row))
		for name, v := range row {
			values[name] = v
		}
		obj, diags := types.ObjectValue(rowType, values)
		resp.Diagnostics.Append(diags...)
		objects = append(objects, obj)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: rowType}, objects)
	resp.Diagnostics.Append(diags...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(d.list), list)...)
	}
}
