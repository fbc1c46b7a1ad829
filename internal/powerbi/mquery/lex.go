package mquery

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token kinds of Power Query M, as far as lineage needs them.
type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // Table.Combine, Source, let (keywords are identifiers here)
	tQIdent         // #"Added Custom"
	tHash           // #datetime, #duration: intrinsic functions
	tString         // "text", unescaped
	tNumber
	tPunct // { } [ ] ( ) , = and operators
)

type token struct {
	kind tokKind
	text string
}

// lex splits an M document into tokens, dropping comments. It never fails:
// an unterminated string or comment runs to the end.
func lex(src string) []token {
	var out []token
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case strings.HasPrefix(src[i:], "//"):
			i = skipTo(src, i, "\n")
		case strings.HasPrefix(src[i:], "/*"):
			i = skipTo(src, i+2, "*/")
		case r == '"':
			s, n := lexString(src[i:])
			out = append(out, token{tString, s})
			i += n
		case r == '#' && i+1 < len(src) && src[i+1] == '"':
			s, n := lexString(src[i+1:])
			out = append(out, token{tQIdent, s})
			i += 1 + n
		case r == '#':
			n := identLen(src[i+1:])
			out = append(out, token{tHash, src[i : i+1+n]})
			i += 1 + n
		case isIdentStart(r):
			n := identLen(src[i:])
			out = append(out, token{tIdent, src[i : i+n]})
			i += n
		case r >= '0' && r <= '9':
			n := 0
			for i+n < len(src) && (isDigitOrDot(src[i+n])) {
				n++
			}
			out = append(out, token{tNumber, src[i : i+n]})
			i += n
		default:
			n := size
			for _, op := range []string{"=>", "<=", ">=", "<>", "..."} {
				if strings.HasPrefix(src[i:], op) {
					n = len(op)
				}
			}
			out = append(out, token{tPunct, src[i : i+n]})
			i += n
		}
	}
	return append(out, token{kind: tEOF})
}

func skipTo(src string, i int, end string) int {
	if j := strings.Index(src[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(src)
}

// lexString reads a "…" literal at the start of s: "" is a quote and #(lf),
// #(cr), #(tab) and #(#) are escapes. It returns the text and the bytes read.
func lexString(s string) (string, int) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		switch {
		case s[i] == '"' && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i += 2
		case s[i] == '"':
			return b.String(), i + 1
		case strings.HasPrefix(s[i:], "#("):
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), len(s)
			}
			b.WriteString(unescape(s[i+2 : i+end]))
			i += end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), len(s)
}

// unescape turns the inside of #(…) into text: lf, cr, tab, #, or
// comma-separated escapes such as cr,lf.
func unescape(code string) string {
	var b strings.Builder
	for _, c := range strings.Split(code, ",") {
		switch strings.TrimSpace(c) {
		case "lf":
			b.WriteByte('\n')
		case "cr":
			b.WriteByte('\r')
		case "tab":
			b.WriteByte('\t')
		case "#":
			b.WriteByte('#')
		default:
			b.WriteByte(' ') // a character code: nothing a table name needs
		}
	}
	return b.String()
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isDigitOrDot(c byte) bool { return c >= '0' && c <= '9' || c == '.' }

// identLen is the length of a regular identifier at the start of s; M's
// identifiers may contain dots between parts (Table.AddColumn, Int64.Type).
func identLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		switch {
		case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			n += size
		case r == '.' && n > 0 && n+1 < len(s) && isIdentStartByte(s[n+1]):
			n++
		default:
			return n
		}
	}
	return n
}

func isIdentStartByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
