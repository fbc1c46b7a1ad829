package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// Tableau's REST API writes one document in two forms: XML in Tableau's
// namespace by default (what tableauserverclient parses), and JSON when the
// request's Accept asks for it (what our client reads). The emulator builds
// each answer once, as elements, and writes the form asked for.

// tableauNS is the namespace of every REST answer.
const tableauNS = "http://tableau.com/api"

// el is an element of a REST answer. In JSON its attributes and children are
// keys; a text-only element is a string; an element with attributes and text
// keeps the text under "value"; and a list wrapper's children are a list
// under their own name, or {} when there are none.
type el struct {
	name  string
	attrs []string // name, value, name, value…: in the order Tableau writes them
	text  string
	kids  []*el
	list  bool
}

// elem makes an element from name, value pairs.
func elem(name string, attrs ...string) *el { return &el{name: name, attrs: attrs} }

// textEl makes an element holding text, such as an error's summary.
func textEl(name, text string) *el { return &el{name: name, text: text} }

// listEl makes a list wrapper, such as <workbooks>.
func listEl(name string, items []*el) *el { return &el{name: name, kids: items, list: true} }

// add appends children and returns the element.
func (e *el) add(kids ...*el) *el {
	e.kids = append(e.kids, kids...)
	return e
}

// attr adds an attribute when value is not empty.
func (e *el) attr(name, value string) *el {
	if value != "" {
		e.attrs = append(e.attrs, name, value)
	}
	return e
}

// wantsJSON is Tableau's choice of form: JSON only when the client accepts it
// (before any XML it names); XML otherwise.
func wantsJSON(r *http.Request) bool {
	accept := strings.ToLower(r.Header.Get("Accept"))
	j := strings.Index(accept, "application/json")
	x := strings.Index(accept, "xml")
	return j >= 0 && (x < 0 || j < x)
}

// answer writes a tsResponse holding body in the form the request asks for.
func (e *Emulator) answer(w http.ResponseWriter, r *http.Request, status int, body ...*el) {
	if wantsJSON(r) {
		obj := answerObject{}
		for _, b := range body {
			obj.set(b.name, b.jsonValue())
		}
		writeJSON(w, status, obj)
		return
	}
	writeXML(w, status, e.restVersion, body)
}

// answerError answers in Tableau's error shape; the code is a string.
func (e *Emulator) answerError(w http.ResponseWriter, r *http.Request, status int, code, summary, detail string) {
	e.answer(w, r, status, errorEl(code, summary, detail))
}

func errorEl(code, summary, detail string) *el {
	return elem("error", "code", code).add(textEl("summary", summary), textEl("detail", detail))
}

func (e *el) jsonValue() any {
	if len(e.attrs) == 0 && len(e.kids) == 0 && !e.list {
		return e.text
	}
	obj := answerObject{}
	if e.list {
		if len(e.kids) > 0 {
			items := make([]any, len(e.kids))
			for i, k := range e.kids {
				items[i] = k.jsonValue()
			}
			obj.set(e.kids[0].name, items)
		}
		return obj
	}
	for i := 0; i+1 < len(e.attrs); i += 2 {
		obj.set(e.attrs[i], e.attrs[i+1])
	}
	if e.text != "" {
		obj.set("value", e.text)
	}
	for _, k := range e.kids {
		obj.set(k.name, k.jsonValue())
	}
	return obj
}

func writeXML(w http.ResponseWriter, status int, version string, body []*el) {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n")
	b.WriteString(`<tsResponse xmlns="` + tableauNS + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xsi:schemaLocation="` + tableauNS + ` https://help.tableau.com/samples/en-us/rest_api/ts-api_` +
		strings.ReplaceAll(version, ".", "_") + `.xsd">` + "\n")
	for _, e := range body {
		e.writeXML(&b, 1)
	}
	b.WriteString("</tsResponse>\n")
	w.Header().Set("Content-Type", "application/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (e *el) writeXML(b *bytes.Buffer, depth int) {
	indent := strings.Repeat("    ", depth)
	b.WriteString(indent + "<" + e.name)
	for i := 0; i+1 < len(e.attrs); i += 2 {
		b.WriteString(" " + e.attrs[i] + `="`)
		_ = xml.EscapeText(b, []byte(e.attrs[i+1]))
		b.WriteByte('"')
	}
	switch {
	case len(e.kids) > 0:
		b.WriteString(">\n")
		for _, k := range e.kids {
			k.writeXML(b, depth+1)
		}
		b.WriteString(indent + "</" + e.name + ">\n")
	case e.text != "":
		b.WriteByte('>')
		_ = xml.EscapeText(b, []byte(e.text))
		b.WriteString("</" + e.name + ">\n")
	default:
		b.WriteString(" />\n")
	}
}

// signInRequest is a personal access token sign-in, as XML (tableauserverclient
// sends it without a Content-Type) or as JSON.
type signInRequest struct {
	Credentials struct {
		Name   string `json:"personalAccessTokenName" xml:"personalAccessTokenName,attr"`
		Secret string `json:"personalAccessTokenSecret" xml:"personalAccessTokenSecret,attr"`
		Site   *struct {
			ContentURL string `json:"contentUrl" xml:"contentUrl,attr"`
		} `json:"site" xml:"site"`
	} `json:"credentials" xml:"credentials"`
}

// decodeRequest reads a tsRequest body in either form, told apart by its first
// character as Tableau's own clients do not always say which they send.
func decodeRequest(r *http.Request, v any) error {
	body, err := readLimited(r)
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '<' {
		return xml.Unmarshal(t, v)
	}
	return json.Unmarshal(body, v)
}
