package emulator

import (
	"encoding/json"
	"strconv"
)

// answerObject is an object of a Metadata API answer: its fields in the
// order the query asks for them, as Tableau writes them (a map would sort
// them). It writes itself and everything under it in one pass, because
// column lineage answers run to tens of megabytes.
type answerObject []answerField

type answerField struct {
	name  string
	value any
}

// set gives a field its value, in place if the query named it before
// (GraphQL merges a field selected twice).
func (o *answerObject) set(name string, v any) {
	for i := range *o {
		if (*o)[i].name == name {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, answerField{name, v})
}

// MarshalJSON writes the object.
func (o answerObject) MarshalJSON() ([]byte, error) {
	return appendAnswer(make([]byte, 0, 4096), o)
}

// appendAnswer appends v as JSON: the executor's objects, lists and scalars
// are written here; anything else goes through encoding/json.
func appendAnswer(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, t)
	case bool:
		return strconv.AppendBool(b, t), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case answerObject:
		return appendObject(b, t)
	case []any:
		b = append(b, '[')
		for i, item := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendAnswer(b, item); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	raw, err := json.Marshal(v)
	return append(b, raw...), err
}

func appendObject(b []byte, o answerObject) ([]byte, error) {
	b = append(b, '{')
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendString(b, f.name); err != nil {
			return nil, err
		}
		if b, err = appendAnswer(append(b, ':'), f.value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendString writes names and IDs, nearly all plain ASCII, as they are;
// a string with anything to escape goes through encoding/json.
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, err := json.Marshal(s)
			return append(b, raw...), err
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}
