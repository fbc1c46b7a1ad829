package provider

import (
	"bytes"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
)

// encodeValue writes v as the plugin protocol's msgpack, as tftypes does, in a
// fraction of its time: tftypes' encoder makes an attribute path and a value
// per map key. Strings, bools, nulls, lists, sets and objects are written
// here; any other value is written by tftypes itself, so the encoding stays
// Terraform's.
func encodeValue(enc *msgpack.Encoder, buf *bytes.Buffer, t tftypes.Type, v tftypes.Value) error {
	switch {
	case !v.IsKnown() || t.Is(tftypes.DynamicPseudoType):
		return encodeByTFTypes(buf, t, v)
	case v.IsNull():
		return enc.EncodeNil()
	case t.Is(tftypes.String):
		var s string
		if err := v.As(&s); err != nil {
			return err
		}
		return enc.EncodeString(s)
	case t.Is(tftypes.Bool):
		var b bool
		if err := v.As(&b); err != nil {
			return err
		}
		return enc.EncodeBool(b)
	case t.Is(tftypes.List{}) || t.Is(tftypes.Set{}):
		return encodeElements(enc, buf, elementType(t), v)
	case t.Is(tftypes.Object{}):
		return encodeObject(enc, buf, t.(tftypes.Object), v)
	}
	return encodeByTFTypes(buf, t, v)
}

func elementType(t tftypes.Type) tftypes.Type {
	if l, ok := t.(tftypes.List); ok {
		return l.ElementType
	}
	return t.(tftypes.Set).ElementType
}

func encodeElements(enc *msgpack.Encoder, buf *bytes.Buffer, et tftypes.Type, v tftypes.Value) error {
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return err
	}
	if err := enc.EncodeArrayLen(len(elems)); err != nil {
		return err
	}
	for _, e := range elems {
		if err := encodeValue(enc, buf, et, e); err != nil {
			return err
		}
	}
	return nil
}

// encodeObject writes an object as a map with its keys sorted, as Terraform does.
func encodeObject(enc *msgpack.Encoder, buf *bytes.Buffer, t tftypes.Object, v tftypes.Value) error {
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return err
	}
	keys := make([]string, 0, len(t.AttributeTypes))
	for k := range t.AttributeTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := enc.EncodeMapLen(len(keys)); err != nil {
		return err
	}
	for _, k := range keys {
		if err := enc.EncodeString(k); err != nil {
			return err
		}
		if err := encodeValue(enc, buf, t.AttributeTypes[k], attrs[k]); err != nil {
			return err
		}
	}
	return nil
}

// encodeByTFTypes appends tftypes' own encoding of v.
func encodeByTFTypes(buf *bytes.Buffer, t tftypes.Type, v tftypes.Value) error {
	b, err := v.MarshalMsgPack(t) //nolint:staticcheck // the encoder Terraform's protocol package uses
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// packState writes a data source's state: its configuration's values, with
// the computed attributes of results written by their pack functions, all as
// one object whose keys are sorted, as Terraform's encoding has them.
func packState(t tftypes.Object, config tftypes.Value, results map[string]resultAttr) (tfprotov6.DynamicValue, error) {
	var cfg map[string]tftypes.Value
	if err := config.As(&cfg); err != nil {
		return tfprotov6.DynamicValue{}, err
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	keys := make([]string, 0, len(t.AttributeTypes))
	for k := range t.AttributeTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := enc.EncodeMapLen(len(keys)); err != nil {
		return tfprotov6.DynamicValue{}, err
	}
	for _, k := range keys {
		if err := enc.EncodeString(k); err != nil {
			return tfprotov6.DynamicValue{}, err
		}
		var err error
		if r, ok := results[k]; ok {
			err = r.pack(enc)
		} else {
			err = encodeValue(enc, &buf, t.AttributeTypes[k], cfg[k])
		}
		if err != nil {
			return tfprotov6.DynamicValue{}, err
		}
	}
	return tfprotov6.DynamicValue{MsgPack: buf.Bytes()}, nil
}

// packer writes msgpack, keeping the first error.
type packer struct {
	enc *msgpack.Encoder
	err error
}

func (p *packer) str(s string) {
	if p.err == nil {
		p.err = p.enc.EncodeString(s)
	}
}

func (p *packer) strs(ss []string) {
	p.array(len(ss))
	for _, s := range ss {
		p.str(s)
	}
}

func (p *packer) array(n int) {
	if p.err == nil {
		p.err = p.enc.EncodeArrayLen(n)
	}
}

func (p *packer) object(n int) {
	if p.err == nil {
		p.err = p.enc.EncodeMapLen(n)
	}
}

// fields writes string attributes given as name, value pairs, in order.
func (p *packer) fields(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		p.str(kv[i])
		p.str(kv[i+1])
	}
}

// optFields writes string attributes given as name, value pairs, in order; an
// empty value is null.
func (p *packer) optFields(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		p.str(kv[i])
		if kv[i+1] == "" {
			if p.err == nil {
				p.err = p.enc.EncodeNil()
			}
			continue
		}
		p.str(kv[i+1])
	}
}
