package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
)

var (
	_ datasource.DataSourceWithConfigure      = &impactDataSource{}
	_ datasource.DataSourceWithValidateConfig = &impactDataSource{}
)

func NewImpactDataSource() datasource.DataSource { return &impactDataSource{} }

// impactDataSource tells which dashboards a dbt change reaches: it reads the
// dashboards as dbtexposures_exposures does, and compares two manifests.
type impactDataSource struct{ exposuresDataSource }

type impactModel struct {
	dashboardFilterModel
	ManifestPath       types.String   `tfsdk:"manifest_path"`
	BaseManifestPath   types.String   `tfsdk:"base_manifest_path"`
	CatalogPath        types.String   `tfsdk:"catalog_path"`
	BaseCatalogPath    types.String   `tfsdk:"base_catalog_path"`
	ChangedNodes       []types.String `tfsdk:"changed_nodes"`
	IncludeOwnerEmails types.Bool     `tfsdk:"include_owner_emails"`
	Changes            rawListValue   `tfsdk:"changes"` // written by changesResult
	Impacts            rawListValue   `tfsdk:"impacts"` // written by impactsResult
	Summary            types.Object   `tfsdk:"summary"`
	Markdown           types.String   `tfsdk:"markdown"`
}

func (d *impactDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_impact"
}

func (d *impactDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := dashboardFilterAttributes()
	file := func(desc string) schema.Attribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}}
	}
	attrs["manifest_path"] = schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		MarkdownDescription: "The pull request's `manifest.json` (`dbt parse` writes it to `target/`)."}
	attrs["base_manifest_path"] = file("Production's `manifest.json`, the base the pull request is compared with. " +
		"Dashboards are matched to its nodes. Set this or `changed_nodes`.")
	attrs["catalog_path"] = file("The pull request's `catalog.json` (`dbt docs generate`): the columns' data types as the warehouse has them.")
	attrs["base_catalog_path"] = file("Production's `catalog.json`. With both catalogs, a node's columns are compared as the " +
		"warehouse has them; otherwise as the two manifests document them.")
	attrs["changed_nodes"] = schema.ListAttribute{Optional: true, Computed: true, ElementType: types.StringType,
		Validators: []validator.List{listvalidator.SizeAtLeast(1)},
		MarkdownDescription: "Set: the changed nodes' unique IDs, instead of `base_manifest_path` (column and relation " +
			"changes are then unknown, so no dashboard is `breaking`). Unset: the nodes the comparison finds changed."}
	attrs["include_columns"] = schema.BoolAttribute{Optional: true, MarkdownDescription: "Read the columns each dashboard " +
		"uses, to tell `breaking` (a used column removed or retyped) from `affected`. Default `true`."}
	attrs["include_owner_emails"] = schema.BoolAttribute{Optional: true, MarkdownDescription: "Show owners' e-mail " +
		"addresses in `markdown`. Default `false`: pull-request comments can be public. `impacts` always has them."}
	attrs["changes"] = schema.ListNestedAttribute{Computed: true, NestedObject: changeObject(), CustomType: rawList(changeObject()),
		MarkdownDescription: "Each changed node, sorted by unique ID, with how it changed."}
	attrs["impacts"] = schema.ListNestedAttribute{Computed: true, NestedObject: impactObject(), CustomType: rawList(impactObject()),
		MarkdownDescription: "Each dashboard a change reaches: `breaking` ones first, then by tool and name."}
	attrs["summary"] = schema.SingleNestedAttribute{Computed: true, Attributes: summaryAttributes(),
		MarkdownDescription: "How many dashboards the changes reach, by severity and by tool."}
	attrs["markdown"] = computedString("A pull-request comment: grouped by severity, every dashboard linked, names escaped, long " +
		"lists folded, under GitHub's 65,536-character limit. It starts with `" + impact.CommentMarker + "`, so a CI step " +
		"can find and update its earlier comment; the same input gives the same text.")
	resp.Schema = schema.Schema{Attributes: attrs, MarkdownDescription: "Which dashboards a dbt change breaks, down to the " +
		"column, for pull-request review. The pull request's manifest is compared with production's node by node, as dbt's " +
		"`state:modified` does (new nodes, the six sub-selectors: body, configs, persisted descriptions, relation, macros, " +
		"contract), relations on the unrendered config so that a CI schema changes nothing; deleted nodes and column " +
		"changes, which dbt does not select, are added. Dashboards are read as `dbtexposures_exposures` reads them, matched " +
		"to production's nodes, and the changes followed down the pull request's graph to them. A dashboard is `breaking` " +
		"when a node it reads is deleted or changes its relation, or a column it uses is removed or retyped; `affected` when " +
		"anything upstream changed. A Power BI report uses its dataset's columns (the Scanner API does not say which visual " +
		"uses which field), so its reasons say \"dataset uses\"."}
}

// ValidateConfig asks for exactly one base: a manifest or a list of changes.
func (d *impactDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var base types.String
	var changed types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("base_manifest_path"), &base)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("changed_nodes"), &changed)...)
	switch {
	case resp.Diagnostics.HasError() || base.IsUnknown() || changed.IsUnknown():
	case base.IsNull() && changed.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("base_manifest_path"), "Nothing to compare with",
			"Set base_manifest_path to production's manifest.json, or changed_nodes to the unique IDs of the nodes the pull request changes.")
	case !base.IsNull() && !changed.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("changed_nodes"), "Two bases to compare with",
			"base_manifest_path compares the manifests and finds the changed nodes itself; remove changed_nodes, or remove base_manifest_path to analyze the listed nodes.")
	}
}

func (d *impactDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readLarge(ctx, d, req, resp)
}

// results compares the manifests, reads the dashboards and follows the changes to them.
func (d *impactDataSource) results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr {
	var cfg impactModel
	if diags.Append(config.Get(ctx, &cfg)...); diags.HasError() {
		return nil
	}
	in, matching := loadImpactInput(cfg, diags)
	if diags.HasError() {
		return nil
	}
	// The manifests are compared while the BI tools answer.
	var cmp *impact.Comparison
	var cmpErr error
	compared := make(chan struct{})
	go func() { defer close(compared); cmp, cmpErr = impact.Compare(in) }()
	filter := cfg.dashboardFilterModel
	filter.IncludeColumns = types.BoolValue(cfg.IncludeColumns.IsNull() || cfg.IncludeColumns.ValueBool())
	dashboards, _ := d.dashboards(ctx, filter, diags)
	<-compared
	if diags.HasError() {
		return nil
	}
	if cmpErr != nil {
		diags.AddAttributeError(path.Root("changed_nodes"), "Cannot analyze the change", cmpErr.Error())
		return nil
	}
	if !filter.IncludeColumns.ValueBool() {
		dashboards = withoutColumns(dashboards)
	}
	res := cmp.Reach(impact.FromExposures(exposures.BuildDashboards(dashboards, matching, exposures.Options{}).Exposures))
	out := map[string]resultAttr{
		"changes":  changesResult(res.Changed),
		"impacts":  impactsResult(res.Impacts),
		"summary":  summaryResult(res.Summary),
		"markdown": stringResult(impact.Markdown(res, impact.MarkdownOptions{OwnerEmails: cfg.IncludeOwnerEmails.ValueBool()})),
	}
	if cfg.ChangedNodes == nil {
		ids := make([]string, len(res.Changed))
		for i, c := range res.Changed {
			ids[i] = c.UniqueID
		}
		out["changed_nodes"] = func(p *packer, _ tftypes.Type) { p.strs(ids) }
	}
	return out
}

// loadImpactInput reads the manifests and catalogs, naming the argument of
// any that cannot be read. Dashboards match the base's nodes (the pull
// request's, without a base).
func loadImpactInput(cfg impactModel, diags *diag.Diagnostics) (impact.Input, *exposures.Index) {
	var in impact.Input
	var head, base *impact.Manifest
	// The four files are read at once: two 50 MB manifests take a second each.
	reads := []func(*diag.Diagnostics){
		func(d *diag.Diagnostics) { head = dbtArtifact("manifest_path", cfg.ManifestPath, impact.LoadFile, d) },
		func(d *diag.Diagnostics) {
			base = dbtArtifact("base_manifest_path", cfg.BaseManifestPath, impact.LoadFile, d)
		},
		func(d *diag.Diagnostics) {
			in.HeadCatalog = dbtArtifact("catalog_path", cfg.CatalogPath, exposures.LoadCatalogFile, d)
		},
		func(d *diag.Diagnostics) {
			in.BaseCatalog = dbtArtifact("base_catalog_path", cfg.BaseCatalogPath, exposures.LoadCatalogFile, d)
		},
	}
	each := make([]diag.Diagnostics, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { read(&each[i]) })
	}
	wg.Wait()
	for _, d := range each {
		diags.Append(d...)
	}
	if diags.HasError() {
		return in, nil
	}
	in.Head = head.State
	matching := head.Matching
	if base != nil {
		in.Base, matching = base.State, base.Matching
	}
	for _, id := range cfg.ChangedNodes {
		in.Changed = append(in.Changed, id.ValueString())
	}
	// No catalog on the index: it would only tell the columns a node lacks,
	// which an impact does not report, and it would be held while the BI
	// tools are read.
	return in, exposures.NewIndex(matching)
}

// dbtArtifact reads the file an argument names with load; an argument not
// set is the zero value, and a file that cannot be read an error on it.
func dbtArtifact[T any](arg string, p types.String, load func(string) (T, error), diags *diag.Diagnostics) T {
	var zero T
	if p.IsNull() {
		return zero
	}
	v, err := load(p.ValueString())
	if err != nil {
		what, hint := "manifest", "manifest.json (run `dbt parse` to write it)"
		if strings.Contains(arg, "catalog") {
			what, hint = "catalog", "catalog.json (run `dbt docs generate` to write it)"
		}
		diags.AddAttributeError(path.Root(arg), "Cannot read the dbt "+what, fmt.Sprintf("%s\n\nPoint %s at target/%s.", err, arg, hint))
		return zero
	}
	return v
}

func changeObject() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"unique_id": computedString("The node's unique ID."),
		"kinds": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "How it changed: `new`, " +
			"`deleted`, dbt's sub-selectors (`body`, `configs`, `persisted_descriptions`, `relation`, `macros`, `contract`), " +
			"what makes it `state:modified` in no sub-selector (`fqn`, a model's `latest_version`, `access` or `deprecation_date`, " +
			"a source's `quoting`, `freshness` or `external`), `columns`, or `listed` (named in `changed_nodes`)."},
		"columns": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Its columns that " +
			"were removed (or renamed away) or retyped: `discount: removed`, `amount: retyped from integer to numeric`."},
	}}
}

func impactObject() schema.NestedAttributeObject {
	list := func(desc string) schema.Attribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"tool":         computedString("`tableau` or `powerbi`."),
		"dashboard":    computedString("The workbook's or report's name."),
		"dashboard_id": computedString("Its ID in the BI tool."),
		"url":          computedString("Its page in the BI tool."),
		"owner_name":   computedString("Its owner's name."),
		"owner_email":  computedString("Its owner's e-mail address."),
		"severity":     computedString("`breaking` or `affected`."),
		"reasons":      list("What makes it `breaking`, a sentence each; empty when `affected`."),
		"paths": list("From the changes nearest it to a node it reads, at most five, shortest first: " +
			"`model.a → model.b`."),
		"changes_upstream": schema.Int64Attribute{Computed: true, MarkdownDescription: "How many changed nodes are at or " +
			"above the nodes it reads."},
		"columns": list("The columns it uses that changed: `model.p.orders.discount: removed`."),
	}}
}

func summaryAttributes() map[string]schema.Attribute {
	num := func(desc string) schema.Attribute {
		return schema.Int64Attribute{Computed: true, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"breaking": num("Dashboards a change breaks."),
		"affected": num("Dashboards downstream of a change that it does not break."),
		"by_tool": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The same counts for each tool, by tool name.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"tool": computedString("`tableau` or `powerbi`."), "breaking": num("Its dashboards a change breaks."),
				"affected": num("Its dashboards a change affects."),
			}}},
	}
}

func changesResult(list []impact.ChangedNode) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(list), func(i int, attr string) cell {
			c := &list[i]
			switch attr {
			case "kinds":
				return strs(c.Kinds)
			case "columns":
				cols := make([]string, len(c.Columns))
				for j, cc := range c.Columns {
					cols[j] = cc.Column + ": " + cc.Change
					if cc.Change == "retyped" {
						cols[j] += " from " + cc.From + " to " + cc.To
					}
				}
				return strs(cols)
			}
			return pick(attr, "unique_id", c.UniqueID)
		}})
	}
}

func impactsResult(list []impact.Impact) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(list), func(i int, attr string) cell {
			im := &list[i]
			switch attr {
			case "reasons":
				return strs(im.Reasons)
			case "columns":
				return strs(im.Columns)
			case "changes_upstream":
				return number(im.Upstream)
			case "paths":
				paths := make([]string, len(im.Paths))
				for j, p := range im.Paths {
					paths[j] = strings.Join(p, " → ")
				}
				return strs(paths)
			}
			return pick(attr, "tool", im.Tool, "dashboard", im.Name, "dashboard_id", im.ID, "url", im.URL,
				"owner_name", im.OwnerName, "owner_email", im.OwnerEmail, "severity", im.Severity)
		}})
	}
}

func summaryResult(s impact.Summary) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.value(t, object(func(attr string) cell {
			switch attr {
			case "breaking":
				return number(s.Breaking)
			case "affected":
				return number(s.Affected)
			}
			return nested(rows{len(s.ByTool), func(i int, a string) cell {
				tc := s.ByTool[i]
				switch a {
				case "breaking":
					return number(tc.Breaking)
				case "affected":
					return number(tc.Affected)
				}
				return pick(a, "tool", tc.Tool)
			}})
		}))
	}
}
