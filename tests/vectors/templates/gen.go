// Command gen fills in tests/vectors/templates.json with what Go's text/template
// prints for each case (or that it fails), so the Rust, Python and Node suites
// can check `-o template` against Go itself. Run by `make vectors`.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type testCase struct {
	Case     string  `json:"case"`
	Data     string  `json:"data"`
	Template string  `json:"template"`
	Expected *string `json:"expected"`
	Error    bool    `json:"error"`
}

type vectors struct {
	About string                     `json:"about"`
	Data  map[string]json.RawMessage `json:"data"`
	Cases []testCase                 `json:"cases"`
}

func decode(raw json.RawMessage) interface{} {
	// Numbers stay as their JSON text, as the CLI prints them.
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

func run(text string, data interface{}) (string, error) {
	t, err := template.New("t").Parse(text)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	if err := t.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}

func main() {
	path := os.Args[1]
	raw, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		panic(err)
	}
	for i := range v.Cases {
		c := &v.Cases[i]
		out, err := run(c.Template, decode(v.Data[c.Data]))
		c.Error = err != nil
		c.Expected = nil
		if err == nil {
			c.Expected = &out
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		panic(err)
	}
}
