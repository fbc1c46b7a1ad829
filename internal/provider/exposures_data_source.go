package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

var _ datasource.DataSourceWithConfigure = (*exposuresDataSource)(nil)

// NewExposuresDataSource is dbtexposures_exposures.
func NewExposuresDataSource() datasource.DataSource { return &exposuresDataSource{} }

type exposuresDataSource struct{ src *tableauSource }

type exposuresModel struct {
	workbookFilterModel
	ManifestPath    types.String `tfsdk:"manifest_path"`
	Maturity        types.String `tfsdk:"maturity"`
	OwnerName       types.String `tfsdk:"owner_name"`
	OwnerEmail      types.String `tfsdk:"owner_email"`
	Exposures       rawListValue `tfsdk:"exposures"` // set from exposuresValue
	YAML            types.String `tfsdk:"yaml"`
	UnmatchedTables rawListValue `tfsdk:"unmatched_tables"` // set from unmatchedValue
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
	exposure := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
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
	}}
	attrs["exposures"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "One exposure per matching workbook that reads at least one dbt model, seed, snapshot or source, sorted by name.",
		NestedObject:        exposure,
		CustomType:          rawList(exposure),
	}
	attrs["yaml"] = str("A dbt properties file (`version: 2`, `exposures:`) with the exposures, valid for dbt Core and dbt Cloud; write it into your dbt project with `local_file`.")
	unmatched := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"workbook_id": str("Workbook LUID."),
		"table":       str("The table, `database.schema.name`."),
	}}
	attrs["unmatched_tables"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "Tables the matching workbooks read that are no dbt node (`database.schema.name`), so gaps in lineage are visible.",
		NestedObject:        unmatched,
		CustomType:          rawList(unmatched),
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
	readLarge(ctx, d, req, resp)
}

// results matches the filtered workbooks to the manifest's nodes and renders them.
func (d *exposuresDataSource) results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr {
	var cfg exposuresModel
	if diags.Append(config.Get(ctx, &cfg)...); diags.HasError() {
		return nil
	}
	manifest, err := exposures.LoadManifestFile(cfg.ManifestPath.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("manifest_path"), "Cannot read the dbt manifest",
			fmt.Sprintf("%s\n\nPoint manifest_path at target/manifest.json of your dbt project (run `dbt parse` to write it).", err))
		return nil
	}
	selected := d.src.FilteredWorkbooks(ctx, cfg.workbookFilterModel, diags)
	if diags.HasError() {
		return nil
	}
	res := exposures.Build(selected, exposures.NewIndex(manifest), exposures.Options{
		Maturity: cfg.Maturity.ValueString(), DefaultOwnerName: cfg.OwnerName.ValueString(), DefaultOwnerEmail: cfg.OwnerEmail.ValueString(),
	})
	yml, err := exposures.Render(res.Exposures, "Tableau at "+d.src.client.Host())
	if err != nil {
		diags.AddError("Cannot render exposures YAML", err.Error())
		return nil
	}
	return map[string]resultAttr{
		"yaml": stringResult(string(yml)),
		"exposures": {
			value: func(t tftypes.Type) tftypes.Value { return exposuresValue(t.(tftypes.List), res.Exposures) },
			pack:  func(enc *msgpack.Encoder) error { return packExposures(enc, res.Exposures) },
		},
		"unmatched_tables": {
			value: func(t tftypes.Type) tftypes.Value { return unmatchedValue(t.(tftypes.List), res.Unmatched) },
			pack:  func(enc *msgpack.Encoder) error { return packUnmatched(enc, res.Unmatched) },
		},
	}
}

// packExposures writes the `exposures` attribute as msgpack, attributes in
// sorted order, as exposuresValue's encoding has them (a test holds them equal).
func packExposures(enc *msgpack.Encoder, list []exposures.Exposure) error {
	p := &packer{enc: enc}
	p.array(len(list))
	for _, e := range list {
		p.object(10)
		p.str("depends_on")
		p.strs(e.DependsOn)
		p.fields("description", e.Description, "label", e.Label, "maturity", e.Maturity, "name", e.Name,
			"owner_email", e.OwnerEmail, "owner_name", e.OwnerName, "type", e.Type, "url", e.URL, "workbook_id", e.WorkbookID)
	}
	return p.err
}

func packUnmatched(enc *msgpack.Encoder, list []exposures.Unmatched) error {
	p := &packer{enc: enc}
	p.array(len(list))
	for _, u := range list {
		p.object(2)
		p.fields("table", u.Table, "workbook_id", u.WorkbookID)
	}
	return p.err
}

// exposuresValue is the `exposures` attribute, built directly.
func exposuresValue(t tftypes.List, list []exposures.Exposure) tftypes.Value {
	et := t.ElementType.(tftypes.Object)
	vals := make([]tftypes.Value, len(list))
	for i, e := range list {
		vals[i] = tftypes.NewValue(et, map[string]tftypes.Value{
			"name": tfString(e.Name), "label": tfString(e.Label), "type": tfString(e.Type), "url": tfString(e.URL),
			"maturity": tfString(e.Maturity), "owner_name": tfString(e.OwnerName), "owner_email": tfString(e.OwnerEmail),
			"description": tfString(e.Description), "depends_on": tfStrings(e.DependsOn), "workbook_id": tfString(e.WorkbookID),
		})
	}
	return tftypes.NewValue(t, vals)
}

// unmatchedValue is the `unmatched_tables` attribute, built directly.
func unmatchedValue(t tftypes.List, list []exposures.Unmatched) tftypes.Value {
	ut := t.ElementType.(tftypes.Object)
	vals := make([]tftypes.Value, len(list))
	for i, u := range list {
		vals[i] = tftypes.NewValue(ut, map[string]tftypes.Value{"workbook_id": tfString(u.WorkbookID), "table": tfString(u.Table)})
	}
	return tftypes.NewValue(t, vals)
}
