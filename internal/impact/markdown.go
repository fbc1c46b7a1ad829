package impact

import (
	"fmt"
	"net/url"
	"strings"
)

// CommentMarker starts every comment, so that a CI step finds the comment it
// wrote before and updates it rather than adding another.
const CommentMarker = "<!-- dbtexposures-impact -->"

// MaxComment is GitHub's limit on a comment's length, in characters.
const MaxComment = 65536

// foldAfter is how many rows a section shows before folding the rest into
// <details>.
const foldAfter = 10

// MarkdownOptions say what a comment may show.
type MarkdownOptions struct {
	// OwnerEmails shows owners' e-mail addresses; comments can be public.
	OwnerEmails bool
	// Limit caps the comment's length in characters; MaxComment when 0.
	Limit int
}

// Markdown renders the result as a pull-request comment: grouped by
// severity, every dashboard linked, names escaped, long lists folded, and
// capped under the limit with "and N more". It depends on nothing but the
// result, so a re-run writes the same text.
func Markdown(res *Result, opt MarkdownOptions) string {
	limit := opt.Limit
	if limit <= 0 || limit > MaxComment {
		limit = MaxComment
	}
	var b strings.Builder
	b.WriteString(CommentMarker + "\n")
	b.WriteString(headline(res))
	for _, n := range res.Notes {
		b.WriteString("\n> " + escape(n) + "\n")
	}
	if len(res.Changed) > 0 {
		b.WriteString(changedSection(res.Changed))
	}
	const footer = "\n<sub>Written by dbtexposures from the manifests and the BI tools' lineage.</sub>\n"
	budget := limit - len([]rune(b.String())) - len(footer) - 200 // room for the closing tags and "and N more"
	for _, sev := range []string{Breaking, Affected} {
		budget = section(&b, res.Impacts, sev, opt, budget)
	}
	b.WriteString(footer)
	return b.String()
}

func headline(res *Result) string {
	switch {
	case len(res.Changed) == 0:
		return "### dbt impact: no dbt node changed\n\nNothing in this pull request changes a model, seed, snapshot or source, so no dashboard is affected.\n"
	case len(res.Impacts) == 0:
		return fmt.Sprintf("### dbt impact: no dashboard affected\n\n%s changed; no dashboard reads them or anything downstream of them.\n", count(len(res.Changed), "dbt node"))
	}
	var by []string
	for _, t := range res.Summary.ByTool {
		by = append(by, fmt.Sprintf("%s: %d breaking, %d affected", escape(t.ToolLabel), t.Breaking, t.Affected))
	}
	return fmt.Sprintf("### dbt impact: %d breaking, %d affected\n\n%s changed, reaching %s (%s).\n",
		res.Summary.Breaking, res.Summary.Affected, count(len(res.Changed), "dbt node"), count(len(res.Impacts), "dashboard"), strings.Join(by, "; "))
}

func changedSection(changed []ChangedNode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>%s changed</summary>\n\n", count(len(changed), "dbt node"))
	for i, c := range changed {
		if i == 200 {
			fmt.Fprintf(&b, "- and %d more\n", len(changed)-i)
			break
		}
		fmt.Fprintf(&b, "- %s: %s", code(c.UniqueID), strings.Join(c.Kinds, ", "))
		var cols []string
		for _, cc := range c.Columns {
			cols = append(cols, code(cc.Column)+" "+columnWord(cc))
		}
		if len(cols) > 0 {
			b.WriteString(" (" + strings.Join(cols, ", ") + ")")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

func columnWord(cc ColumnChange) string {
	if cc.Change == "retyped" {
		return fmt.Sprintf("retyped %s → %s", escape(cc.From), escape(cc.To))
	}
	return "removed"
}

// section writes one severity's dashboards, folding past foldAfter rows and
// stopping before the budget runs out; it returns what is left of it.
func section(b *strings.Builder, all []Impact, sev string, opt MarkdownOptions, budget int) int {
	var list []Impact
	for _, im := range all {
		if im.Severity == sev {
			list = append(list, im)
		}
	}
	if len(list) == 0 {
		return budget
	}
	title := map[string]string{Breaking: "Breaking", Affected: "Affected"}[sev]
	head := fmt.Sprintf("\n#### %s (%d)\n\n", title, len(list))
	b.WriteString(head)
	budget -= len([]rune(head))
	for i, im := range list {
		if i == foldAfter {
			fold := fmt.Sprintf("\n<details><summary>%d more %s</summary>\n\n", len(list)-i, strings.ToLower(title))
			b.WriteString(fold)
			budget -= len([]rune(fold)) + len("\n</details>\n")
		}
		row := impactRow(im, opt)
		if n := len([]rune(row)); n > budget {
			fmt.Fprintf(b, "- and %d more\n", len(list)-i)
			budget = 0
			break
		} else {
			budget -= n
		}
		b.WriteString(row)
	}
	if len(list) > foldAfter {
		b.WriteString("\n</details>\n")
	}
	return budget
}

func impactRow(im Impact, opt MarkdownOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s (%s)", link(im.Name, im.URL), escape(im.ToolLabel))
	if owner := ownerText(im, opt); owner != "" {
		b.WriteString(", owner " + owner)
	}
	b.WriteString("\n")
	for _, r := range im.Reasons {
		b.WriteString("  - " + escape(r) + "\n")
	}
	shown := min(len(im.Paths), 3)
	for _, p := range im.Paths[:shown] {
		parts := make([]string, len(p))
		for j, id := range p {
			parts[j] = code(id)
		}
		if len(p) == 1 {
			parts[0] += ", which it reads, changed"
		}
		b.WriteString("  - " + strings.Join(parts, " → ") + "\n")
	}
	if more := im.Upstream - shown; more > 0 {
		fmt.Fprintf(&b, "  - and %s upstream\n", count(more, "more changed node"))
	}
	return b.String()
}

func ownerText(im Impact, opt MarkdownOptions) string {
	name := escape(im.OwnerName)
	if !opt.OwnerEmails || im.OwnerEmail == "" {
		return name
	}
	if name == "" {
		return escape(im.OwnerEmail)
	}
	return name + " (" + escape(im.OwnerEmail) + ")"
}

// link is a markdown link to an http(s) URL, or the escaped name alone.
func link(name, raw string) string {
	text := escape(name)
	if text == "" {
		text = "(unnamed)"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return text
	}
	// Parentheses, spaces and angle brackets would end or break the link.
	safe := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u.String())
	return "[" + text + "](" + safe + ")"
}

// escape makes a name safe in markdown and HTML: what markdown would read as
// formatting is backslash-escaped, and what HTML would read as a tag or an
// entity is written as an entity. Escaped text never starts a line, so
// list and heading markers (".", "-", "+") need no escaping.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_{}[]()#|~", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code is a unique ID as inline code; backticks cannot occur in it.
func code(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
