package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
)

// Large results (10,000 workbooks, thousands of exposures) are built as
// tftypes values directly: the framework's reflection over as many nested
// structs takes seconds and hundreds of MB. The types come from the schema, so
// values and schema cannot drift apart.

func tfString(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func tfStrings(ss []string) tftypes.Value {
	vals := make([]tftypes.Value, len(ss))
	for i, s := range ss {
		vals[i] = tfString(s)
	}
	return tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, vals)
}

// listElem is the element type of a list attribute of an object type.
func listElem(t tftypes.Object, name string) tftypes.Object {
	return t.AttributeTypes[name].(tftypes.List).ElementType.(tftypes.Object)
}

// attrType is the tftypes type of a top-level attribute, as the schema has it.
func attrType(ctx context.Context, s tfsdk.State, name string) (tftypes.Type, diag.Diagnostics) {
	t, diags := s.Schema.TypeAtPath(ctx, path.Root(name))
	if diags.HasError() {
		return nil, diags
	}
	return t.TerraformType(ctx), diags
}

// setResult sets a data source's state to its configuration with the computed
// attributes in results.
func setResult(config tfsdk.Config, state *tfsdk.State, results map[string]tftypes.Value) diag.Diagnostics {
	var diags diag.Diagnostics
	var cfg map[string]tftypes.Value
	if err := config.Raw.As(&cfg); err != nil {
		diags.AddError("Unexpected configuration value", fmt.Sprintf("This is a bug in the provider; please report it: %s", err))
		return diags
	}
	// A new map: As shares the configuration's own, which must stay as it is.
	vals := make(map[string]tftypes.Value, len(cfg))
	for name, v := range cfg {
		vals[name] = v
	}
	for name, v := range results {
		vals[name] = v
	}
	state.Raw = tftypes.NewValue(config.Raw.Type(), vals)
	return diags
}

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

// resultAttr is a computed attribute of a large data source result, in the two
// forms it is needed in: a tftypes value for the framework's state, and
// msgpack written straight from Go values for the plugin protocol (building
// tftypes values for 10,000 workbooks alone takes a quarter of a second).
type resultAttr struct {
	value func(t tftypes.Type) tftypes.Value
	pack  func(enc *msgpack.Encoder) error
}

// largeResult is a data source whose Read is computed once into resultAttrs,
// which Read sets as state and the protocol server encodes directly.
type largeResult interface {
	results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr
}

// readLarge is the Read of a largeResult data source.
func readLarge(ctx context.Context, ds largeResult, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	results := ds.results(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	vals := make(map[string]tftypes.Value, len(results))
	for name, r := range results {
		t, diags := attrType(ctx, resp.State, name)
		if resp.Diagnostics.Append(diags...); diags.HasError() {
			return
		}
		vals[name] = r.value(t)
	}
	resp.Diagnostics.Append(setResult(req.Config, &resp.State, vals)...)
}

func stringResult(s string) resultAttr {
	return resultAttr{
		value: func(tftypes.Type) tftypes.Value { return tfString(s) },
		pack:  func(enc *msgpack.Encoder) error { return enc.EncodeString(s) },
	}
}
