package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Large results (10,000 workbooks, thousands of exposures) are written once,
// as the plugin protocol's msgpack, straight from Go values: the framework's
// reflection over as many nested structs takes seconds and hundreds of MB.
// Object keys and their count come from the schema's types, so the encoding
// and the schema cannot drift apart.

func tfString(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

// rawListType is the type of a large computed list attribute whose values are
// built as tftypes values. After a data source's Read, the framework converts
// every attribute of the result to attr.Values to check semantic equality
// against the configuration (where computed attributes are null, so nothing
// is ever found); for 10,000 nested objects that conversion alone costs
// seconds. Values of this type keep the tftypes value as it is and convert it
// only when asked for its elements. The Terraform type, and so the schema, is
// that of the ListType it wraps.
type rawListType struct {
	basetypes.ListType
}

// rawList wraps a nested object's list type.
func rawList(nested schema.NestedAttributeObject) rawListType {
	return rawListType{basetypes.ListType{ElemType: nested.Type()}}
}

func (t rawListType) ValueFromTerraform(_ context.Context, v tftypes.Value) (attr.Value, error) {
	return rawListValue{typ: t, raw: v, same: new(byte)}, nil
}

func (t rawListType) ValueType(context.Context) attr.Value { return rawListValue{typ: t} }

func (t rawListType) Equal(o attr.Type) bool {
	other, ok := o.(rawListType)
	return ok && t.ListType.Equal(other.ListType)
}

func (t rawListType) String() string { return "rawListType[" + t.ListType.String() + "]" }

// rawListValue is a value of rawListType.
type rawListValue struct {
	typ rawListType
	raw tftypes.Value
	// same is shared by the copies of one value, so that comparing a value
	// with itself, as the framework does after Read, costs nothing.
	same *byte
}

func (v rawListValue) Type(context.Context) attr.Type { return v.typ }

func (v rawListValue) ToTerraformValue(ctx context.Context) (tftypes.Value, error) {
	if v.raw.Type() == nil {
		return tftypes.NewValue(v.typ.TerraformType(ctx), nil), nil
	}
	return v.raw, nil
}

func (v rawListValue) Equal(o attr.Value) bool {
	other, ok := o.(rawListValue)
	if !ok {
		return false
	}
	return (v.same != nil && v.same == other.same) || v.raw.Equal(other.raw)
}

func (v rawListValue) IsNull() bool    { return v.raw.Type() == nil || v.raw.IsNull() }
func (v rawListValue) IsUnknown() bool { return v.raw.Type() != nil && !v.raw.IsKnown() }
func (v rawListValue) String() string  { return v.raw.String() }

// ToListValue converts the value element by element, as the framework's own
// list value; nothing in a plan of this provider asks for it.
func (v rawListValue) ToListValue(ctx context.Context) (basetypes.ListValue, diag.Diagnostics) {
	var diags diag.Diagnostics
	raw, _ := v.ToTerraformValue(ctx)
	lv, err := v.typ.ListType.ValueFromTerraform(ctx, raw)
	if err != nil {
		diags.AddError("Unexpected list value", err.Error())
		return basetypes.NewListNull(v.typ.ElemType), diags
	}
	return lv.(basetypes.ListValue), diags
}

// resultAttr writes one computed attribute of a large data source's result as
// msgpack of the attribute's type t.
type resultAttr func(p *packer, t tftypes.Type)

// largeResult is a data source whose result is computed once into
// resultAttrs, which the protocol server encodes directly.
type largeResult interface {
	results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr
}

// readLarge is the framework's Read of a largeResult data source. The
// protocol server answers these reads itself, so it runs only where the
// framework is driven directly; it decodes the same encoding the server
// sends, so there is one way a result is made.
func readLarge(ctx context.Context, ds largeResult, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	results := ds.results(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	typ := req.Config.Schema.Type().TerraformType(ctx)
	dv, err := packState(typ.(tftypes.Object), req.Config.Raw, results)
	if err == nil {
		resp.State.Raw, err = dv.Unmarshal(typ)
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not encode the result", "This is a bug in the provider; please report it: "+err.Error())
	}
}

func stringResult(s string) resultAttr {
	return func(p *packer, _ tftypes.Type) { p.str(s) }
}
