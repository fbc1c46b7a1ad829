package provider

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// setting is one of a tool's provider settings: its attribute in the tool's
// block and the environment variable it falls back to ("" for none).
type setting struct {
	attr, env string
	required  bool
	sensitive bool
	desc      string // the attribute's description; "Defaults to `ENV`." follows when env is set
	// emptyWins: an explicit "" in the block wins over the environment (a
	// Tableau site ID of "" is the default site).
	emptyWins bool
}

// toolBlock is a tool's settings block in the provider configuration.
type toolBlock struct {
	name, label string // "tableau", "Tableau"
	envPrefix   string // "TABLEAU_"
	desc        string // the block's description
	settings    []setting
}

// attribute is the block's schema, made from the same settings it is read by.
func (b toolBlock) attribute() schema.Attribute {
	attrs := make(map[string]schema.Attribute, len(b.settings))
	for _, s := range b.settings {
		desc := s.desc
		if s.env != "" {
			desc += " Defaults to `" + s.env + "`."
		}
		attrs[s.attr] = schema.StringAttribute{Optional: true, Sensitive: s.sensitive, MarkdownDescription: desc}
	}
	return schema.SingleNestedAttribute{Optional: true, MarkdownDescription: b.desc, Attributes: attrs}
}

// read reads the block's values, each falling back to its environment
// variable. It reports false, with why, when the tool is not configured at
// all, and adds an error naming each unknown or missing required setting.
func (b toolBlock) read(obj types.Object, diags *diag.Diagnostics) (values map[string]string, notConfigured string) {
	if obj.IsUnknown() {
		diags.AddAttributeError(path.Root(b.name), "Unknown "+b.label+" settings", fmt.Sprintf("The provider's %s settings depend on values "+
			"only known after apply; use known values or the %s* environment variables.", b.name, b.envPrefix))
		return nil, "the " + b.name + " settings are unknown"
	}
	attrs := obj.Attributes()
	values = map[string]string{}
	any := false
	for _, s := range b.settings {
		v, _ := attrs[s.attr].(types.String)
		if v.IsUnknown() {
			diags.AddAttributeError(path.Root(b.name).AtName(s.attr), "Unknown "+b.label+" setting",
				b.name+"."+s.attr+" is only known after apply; use a known value or the environment variable.")
		}
		values[s.attr] = v.ValueString()
		if v.IsNull() && s.env != "" || (v.ValueString() == "" && !s.emptyWins && s.env != "") {
			values[s.attr] = os.Getenv(s.env)
		}
		any = any || (s.required && values[s.attr] != "")
	}
	if !any {
		return nil, b.notConfigured()
	}
	for _, s := range b.settings {
		if s.required && values[s.attr] == "" {
			diags.AddAttributeError(path.Root(b.name).AtName(s.attr), "Missing "+b.label+" "+s.attr,
				fmt.Sprintf("Set %s.%s in the provider block or the %s environment variable.", b.name, s.attr, s.env))
		}
	}
	return values, ""
}

// notConfigured says how to configure the tool.
func (b toolBlock) notConfigured() string {
	var attrs, envs []string
	for _, s := range b.settings {
		if s.env != "" {
			attrs, envs = append(attrs, s.attr), append(envs, s.env)
		}
	}
	return fmt.Sprintf("%s is not configured. Set the provider's %s = { %s } or the %s environment variables.",
		b.label, b.name, strings.Join(attrs, ", "), andList(envs))
}

// andList joins "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
