package provider

import (
	"bytes"
	"fmt"
	"reflect"
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
	p := &packer{enc: enc}
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
			r(p, t.AttributeTypes[k])
			err = p.err
		} else {
			err = encodeValue(enc, &buf, t.AttributeTypes[k], cfg[k])
		}
		if err != nil {
			return tfprotov6.DynamicValue{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	return tfprotov6.DynamicValue{MsgPack: buf.Bytes()}, nil
}

// packer writes msgpack, keeping the first error.
type packer struct {
	enc  *msgpack.Encoder
	err  error
	keys map[uintptr][]string // sorted attribute names by object type
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

// rows is a list attribute of n objects; value gives row i's value of attr.
type rows struct {
	n     int
	value func(i int, attr string) cell
}

// cell is one attribute's value: a string, null, a list of strings or nested
// rows. A value type, so that writing 10,000 rows boxes nothing.
type cell struct {
	kind cellKind
	s    string
	ss   []string
	rows rows
	n    int64
}

type cellKind uint8

const (
	cellUnknown cellKind = iota // the data source gives no value: an error
	cellString
	cellNull
	cellStrings
	cellRows
	cellNumber
	cellObject // one object: rows.value(0, attr) gives its attributes
)

func str(s string) cell     { return cell{kind: cellString, s: s} }
func strs(ss []string) cell { return cell{kind: cellStrings, ss: ss} }
func nested(r rows) cell    { return cell{kind: cellRows, rows: r} }
func number(n int) cell     { return cell{kind: cellNumber, n: int64(n)} }
func object(attr func(attr string) cell) cell {
	return cell{kind: cellObject, rows: rows{1, func(_ int, a string) cell { return attr(a) }}}
}
func unknownAttr(a string) cell { return cell{kind: cellUnknown, s: a} }

// null is a null value of any type.
func null() cell { return cell{kind: cellNull} }

// opt is s, or null when s is empty.
func opt(s string) cell {
	if s == "" {
		return cell{kind: cellNull}
	}
	return str(s)
}

// value writes v as a value of type t. Objects' keys, and how many there
// are, come from t (the schema), sorted as Terraform sorts them; an attribute
// the data source gives no value for is an error, not a wrong encoding.
func (p *packer) value(t tftypes.Type, v cell) {
	if p.err != nil {
		return
	}
	switch v.kind {
	case cellNull:
		p.err = p.enc.EncodeNil()
	case cellString:
		p.str(v.s)
	case cellStrings:
		p.strs(v.ss)
	case cellRows:
		p.rows(t, v.rows)
	case cellNumber:
		p.err = p.enc.EncodeInt(v.n)
	case cellObject:
		p.objectOf(t, v.rows)
	default:
		p.err = fmt.Errorf("the data source gives no value for its attribute %q", v.s)
	}
}

// rows writes a list of objects of t's element type, keys from the schema.
func (p *packer) rows(t tftypes.Type, r rows) {
	obj, ok := elementType(t).(tftypes.Object)
	if !ok {
		p.err = fmt.Errorf("rows given for %s, which is not a list of objects", t)
		return
	}
	p.array(r.n)
	for i := 0; i < r.n && p.err == nil; i++ {
		p.row(obj, r, i)
	}
}

// objectOf writes one object of type t: row 0 of r.
func (p *packer) objectOf(t tftypes.Type, r rows) {
	obj, ok := t.(tftypes.Object)
	if !ok {
		p.err = fmt.Errorf("an object given for %s", t)
		return
	}
	p.row(obj, r, 0)
}

// row writes row i of r as an object of obj's attributes.
func (p *packer) row(obj tftypes.Object, r rows, i int) {
	keys := p.sortedKeys(obj)
	p.object(len(keys))
	for _, k := range keys {
		p.str(k)
		p.value(obj.AttributeTypes[k], r.value(i, k))
	}
}

// sortedKeys are an object type's attribute names, sorted once per type.
func (p *packer) sortedKeys(t tftypes.Object) []string {
	id := reflect.ValueOf(t.AttributeTypes).Pointer()
	if keys, ok := p.keys[id]; ok {
		return keys
	}
	keys := make([]string, 0, len(t.AttributeTypes))
	for k := range t.AttributeTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if p.keys == nil {
		p.keys = map[uintptr][]string{}
	}
	p.keys[id] = keys
	return keys
}

// pick is the string named attr among name, value pairs.
func pick(attr string, kv ...string) cell {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == attr {
			return str(kv[i+1])
		}
	}
	return unknownAttr(attr)
}
