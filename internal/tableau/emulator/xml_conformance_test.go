package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// samplesDir holds Tableau's recorded REST answers (see its NOTICE.md).
const samplesDir = "../testdata/tableau-samples"

// beyondSamples are names the emulator writes that Tableau's REST reference
// documents but no recorded sample happens to show; our JSON client and the
// wire notes (TABLEAU-WIRE.md) rely on some of them.
var beyondSamples = map[string]bool{
	"workbook@encryptExtracts": true, "workbook>location": true,
	"location@id": true, "location@type": true, "location@name": true,
	"project@topLevelProject": true, "project@createdAt": true, "project@updatedAt": true,
	"credentials@estimatedTimeToExpiration": true, "user@email": true,
}

// sampleRequest is the request that a recorded sample answered.
type sampleRequest struct {
	method, path, body string
	signedIn           bool
}

func sampleRequests(f *Fixture) map[string]sampleRequest {
	const site = "/api/3.23/sites/6b7179ba-b82b-4f0f-91ed-812074ac5da6"
	signIn := func(secret string) string {
		return `<tsRequest><credentials personalAccessTokenName="` + f.PersonalAccessToken.Name +
			`" personalAccessTokenSecret="` + secret + `"><site contentUrl="Samples" /></credentials></tsRequest>`
	}
	get := func(path string) sampleRequest { return sampleRequest{"GET", site + path, "", true} }
	return map[string]sampleRequest{
		"auth_sign_in.xml":                    {"POST", "/api/3.23/auth/signin", signIn(f.PersonalAccessToken.Secret), false},
		"auth_sign_in_error.xml":              {"POST", "/api/3.23/auth/signin", signIn("wrong"), false},
		"server_info_get.xml":                 {"GET", "/api/2.4/serverInfo", "", false},
		"server_info_404.xml":                 {"GET", "/api/2.3/serverInfo", "", false},
		"site_get_by_id.xml":                  get(""),
		"user_get_by_id.xml":                  get("/users/dd2239f6-ddf1-4107-981a-4cf94e415794"),
		"project_get.xml":                     get("/projects"),
		"workbook_get.xml":                    get("/workbooks"),
		"workbook_get_empty.xml":              get("/workbooks?filter=name:eq:nothing"),
		"workbook_get_page_1.xml":             get("/workbooks?pageSize=1&pageNumber=1"),
		"workbook_get_page_2.xml":             get("/workbooks?pageSize=1&pageNumber=2"),
		"workbook_get_page_3.xml":             get("/workbooks?pageSize=1&pageNumber=3"),
		"workbook_get_by_id.xml":              get("/workbooks/3cc6cd06-89ce-4fdc-b935-5294135d6d42"),
		"workbook_populate_connections.xml":   get("/workbooks/3cc6cd06-89ce-4fdc-b935-5294135d6d42/connections"),
		"workbook_refresh.xml":                {"POST", site + "/workbooks/6d13b0ca-043d-4d42-8c9d-3f3313ea3a00/refresh", "<tsRequest />", true},
		"datasource_get.xml":                  get("/datasources"),
		"datasource_get_by_id.xml":            get("/datasources/9dbd2263-16b5-46e1-9c43-a76bb8ab65fb"),
		"datasource_populate_connections.xml": get("/datasources/9dbd2263-16b5-46e1-9c43-a76bb8ab65fb/connections"),
		"datasource_refresh.xml":              {"POST", site + "/datasources/9dbd2263-16b5-46e1-9c43-a76bb8ab65fb/refresh", "", true},
		"job_get.xml":                         get("/jobs"),
		"job_get_by_id.xml":                   get("/jobs/2eef4225-aa0c-41c4-8662-a76d89ed7336"),
		"job_get_by_id_completed.xml":         get("/jobs/2eef4225-aa0c-41c4-8662-a76d89ed7336"),
		"job_get_by_id_failed.xml":            get("/jobs/777bf7c4-421d-4b2c-a518-11b90187c545"),
		"job_get_by_id_inprogress.xml":        get("/jobs/777bf7c4-421d-4b2c-a518-11b90187c546"),
	}
}

// TestAnswersHaveTheShapeOfTableausXML asks the emulator, loaded with a site
// that mirrors the recorded samples, each sample's request, and holds its
// XML to the sample's: every element and attribute name, with its
// namespace, that the sample has at a path, the answer has at that path;
// and the answer has nothing that no sample (or beyondSamples) has.
func TestAnswersHaveTheShapeOfTableausXML(t *testing.T) {
	f, err := LoadFixture("testdata/samples-site.json")
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serve(t, f)
	samples, _ := filepath.Glob(filepath.Join(samplesDir, "*.xml"))
	requests := sampleRequests(f)
	known := map[string]bool{}
	shapes := map[string]map[string]bool{}
	for _, p := range samples {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		shapes[filepath.Base(p)] = xmlShape(t, raw)
		for k := range shapes[filepath.Base(p)] {
			known[elementKey(k)] = true
		}
	}
	if len(samples) < 24 {
		t.Fatalf("found %d recorded XML samples in %s", len(samples), samplesDir)
	}
	for name, want := range shapes {
		t.Run(name, func(t *testing.T) {
			req, ok := requests[name]
			if !ok {
				t.Fatalf("no request for the recorded sample %s: add it to sampleRequests", name)
			}
			got := xmlShape(t, sampleAnswer(t, srv.URL, f, req))
			for _, k := range sorted(want) {
				if !got[k] {
					t.Errorf("the answer lacks %s", k)
				}
			}
			for _, k := range sorted(got) {
				if el := elementKey(k); !known[el] && !beyondSamples[el] {
					t.Errorf("the answer has %s, which no recorded sample has", k)
				}
			}
		})
	}
}

func sampleAnswer(t *testing.T, base string, f *Fixture, s sampleRequest) []byte {
	t.Helper()
	req, _ := http.NewRequest(s.method, base+s.path, strings.NewReader(s.body))
	if s.signedIn {
		tok, _ := signIn(t, base, f)
		req.Header.Set("X-Tableau-Auth", tok)
	}
	resp, raw := send(t, req)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type %q, want XML: %s", ct, raw)
	}
	return raw
}

// xmlShape lists a document's paths: "path>{ns}child" for each element and
// "path@{ns}attr" for each attribute, where path is the chain of
// {namespace}names from the root.
func xmlShape(t *testing.T, raw []byte) map[string]bool {
	t.Helper()
	shape := map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(raw))
	var path []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return shape
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, raw)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			name := "{" + e.Name.Space + "}" + e.Name.Local
			shape[strings.Join(path, "/")+">"+name] = true
			path = append(path, name)
			for _, a := range e.Attr {
				shape[strings.Join(path, "/")+"@{"+a.Name.Space+"}"+a.Name.Local] = true
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
}

// elementKey turns a shape path into "element>child" or "element@attr",
// without namespaces: what beyondSamples and the samples' union are keyed by.
func elementKey(k string) string {
	sep := strings.LastIndexAny(k, ">@")
	parent := k[:sep]
	if i := strings.LastIndex(parent, "/"); i >= 0 {
		parent = parent[i+1:]
	}
	strip := func(s string) string { return s[strings.Index(s, "}")+1:] }
	if parent == "" {
		return string(k[sep]) + strip(k[sep+1:])
	}
	return strip(parent) + string(k[sep]) + strip(k[sep+1:])
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFormFollowsAccept: XML unless the request accepts JSON first, as
// Tableau answers; both forms carry the same document.
func TestFormFollowsAccept(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 1})
	_, srv := serve(t, f)
	for accept, want := range map[string]string{
		"": "application/xml", "*/*": "application/xml", "application/xml, application/json": "application/xml",
		"application/json": "application/json", "application/json, text/xml": "application/json",
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/3.23/serverinfo", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, raw := send(t, req)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("Accept %q: Content-Type %q, want %s", accept, ct, want)
		}
		if !strings.Contains(string(raw), "3.23") || !strings.Contains(string(raw), "2024.2.0") {
			t.Errorf("Accept %q: the answer lacks the versions: %s", accept, raw)
		}
	}
}
