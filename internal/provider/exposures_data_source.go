package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

var _ datasource.DataSourceWithConfigure = (*exposuresDataSource)(nil)

// NewExposuresDataSource is dbtexposures_exposures.
func NewExposuresDataSource() datasource.DataSource { return &exposuresDataSource{} }

type exposuresDataSource struct{ src *tableauSource }

type exposuresModel struct {
	workbookFilterModel
	ManifestPath    types.String     `tfsdk:"manifest_path"`
	Maturity        types.String     `tfsdk:"maturity"`
	OwnerName       types.String     `tfsdk:"owner_name"`
	OwnerEmail      types.String     `tfsdk:"owner_email"`
	Exposures       []exposureModel  `tfsdk:"exposures"`
	YAML            types.String     `tfsdk:"yaml"`
	UnmatchedTables []unmatchedModel `tfsdk:"unmatched_tables"`
}

type exposureModel struct {
	Name        types.String   `tfsdk:"name"`
	Label       types.String   `tfsdk:"label"`
	Type        types.String   `tfsdk:"type"`
	URL         types.String   `tfsdk:"url"`
	Maturity    types.String   `tfsdk:"maturity"`
	OwnerName   types.String   `tfsdk:"owner_name"`
	OwnerEmail  types.String   `tfsdk:"owner_email"`
	Description types.String   `tfsdk:"description"`
	DependsOn   []types.String `tfsdk:"depends_on"`
	WorkbookID  types.String   `tfsdk:"workbook_id"`
}

type unmatchedModel struct {
	WorkbookID types.String `tfsdk:"workbook_id"`
	Table      types.String `tfsdk:"table"`
}

func (d *exposuresDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_exposures"
}

func (d *exposuresDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := workbookFilterAttributes()
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	attrs["manifest_path"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Path to dbt's `manifest.json` (schema v10 or later; `dbt parse` writes it to `target/`).",
		Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
	}
	attrs["maturity"] = schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Maturity of every exposure: `low`, `medium` or `high`. Left out of the YAML when unset.",
		Validators:          []validator.String{stringvalidator.OneOf("low", "medium", "high")},
	}
	attrs["owner_name"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Owner name for workbooks whose Tableau owner is unknown."}
	attrs["owner_email"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Owner email for workbooks whose Tableau owner is unknown."}
	attrs["exposures"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "One exposure per matching workbook that reads at least one dbt model, seed, snapshot or source, sorted by name.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"name":        str("Exposure name: the workbook name in snake_case, unique and stable (a short LUID suffix on collisions)."),
			"label":       str("The workbook name."),
			"type":        str("Always `dashboard`."),
			"url":         str("The workbook's page in Tableau."),
			"maturity":    str("The configured maturity, or empty."),
			"owner_name":  str("Owner name from Tableau, or the default."),
			"owner_email": str("Owner email from Tableau, or the default."),
			"description": str("The workbook's description."),
			"depends_on":  schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Sorted `ref('…')` and `source('…', '…')` strings."},
			"workbook_id": str("Workbook LUID."),
		}},
	}
	attrs["yaml"] = str("A dbt properties file (`version: 2`, `exposures:`) with the exposures, valid for dbt Core and dbt Cloud; write it into your dbt project with `local_file`.")
	attrs["unmatched_tables"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "Tables the matching workbooks read that are no dbt node (`database.schema.name`), so gaps in lineage are visible.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"workbook_id": str("Workbook LUID."),
			"table":       str("The table, `database.schema.name`."),
		}},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "dbt exposures for Tableau workbooks: each workbook's upstream tables and custom SQL are matched to the nodes " +
			"of a dbt manifest by `database.schema.identifier`, case-insensitively and never by substring, and rendered as dbt YAML. " +
			"Works for dbt Core projects too. Needs the provider's `tableau` settings.",
		Attributes: attrs,
	}
}

func (d *exposuresDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.src = tableauFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *exposuresDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg exposuresModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	manifest, err := exposures.LoadManifestFile(cfg.ManifestPath.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("manifest_path"), "Cannot read the dbt manifest",
			fmt.Sprintf("%s\n\nPoint manifest_path at target/manifest.json of your dbt project (run `dbt parse` to write it).", err))
		return
	}
	selected := d.src.FilteredWorkbooks(ctx, cfg.workbookFilterModel, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	res := exposures.Build(selected, exposures.NewIndex(manifest), exposures.Options{
		Maturity: cfg.Maturity.ValueString(), DefaultOwnerName: cfg.OwnerName.ValueString(), DefaultOwnerEmail: cfg.OwnerEmail.ValueString(),
	})
	yml, err := exposures.Render(res.Exposures, "Tableau at "+d.src.client.Host())
	if err != nil {
		resp.Diagnostics.AddError("Cannot render exposures YAML", err.Error())
		return
	}
	cfg.YAML = types.StringValue(string(yml))
	cfg.Exposures = make([]exposureModel, 0, len(res.Exposures))
	for _, e := range res.Exposures {
		deps := make([]types.String, 0, len(e.DependsOn))
		for _, dep := range e.DependsOn {
			deps = append(deps, types.StringValue(dep))
		}
		cfg.Exposures = append(cfg.Exposures, exposureModel{
			Name: types.StringValue(e.Name), Label: types.StringValue(e.Label), Type: types.StringValue(e.Type),
			URL: types.StringValue(e.URL), Maturity: types.StringValue(e.Maturity), OwnerName: types.StringValue(e.OwnerName),
			OwnerEmail: types.StringValue(e.OwnerEmail), Description: types.StringValue(e.Description),
			DependsOn: deps, WorkbookID: types.StringValue(e.WorkbookID),
		})
	}
	cfg.UnmatchedTables = make([]unmatchedModel, 0, len(res.Unmatched))
	for _, u := range res.Unmatched {
		cfg.UnmatchedTables = append(cfg.UnmatchedTables, unmatchedModel{WorkbookID: types.StringValue(u.WorkbookID), Table: types.StringValue(u.Table)})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}
