package mquery

import (
	"errors"
	"fmt"
	"strings"
)

// The syntax tree keeps only what lineage follows: bindings, calls, names,
// text, lists, records and navigation. Everything else (operators, if, each,
// type) becomes a group whose parts are evaluated for the tables they read.
type node interface{}

type (
	letNode struct {
		names []string
		exprs []node
		body  node
	}
	callNode struct {
		fn   string // the function's name; "" when the callee is not a name
		args []node
	}
	identNode  struct{ name string }
	stringNode struct{ s string }
	listNode   struct{ items []node }
	recordNode struct {
		names []string
		vals  []node
	}
	itemNode  struct{ target, sel node } // target{sel}
	fieldNode struct {
		target node
		name   string
	} // target[name]
	groupNode struct{ parts []node }
)

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	toks  []token
	pos   int
	depth int
}

var errDepth = errors.New("the expression nests too deeply")

func parse(src string) (n node, err error) {
	p := &parser{toks: lex(src)}
	n, err = p.expr()
	if err == nil && p.peek().kind != tEOF {
		err = fmt.Errorf("unexpected %q after the expression", p.peek().text)
	}
	return n, err
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == s
}

func (p *parser) expect(s string) error {
	if !p.isPunct(s) {
		return fmt.Errorf("expected %q, found %q", s, p.peek().text)
	}
	p.next()
	return nil
}

// binary operators and keywords that join two operands.
var binary = map[string]bool{"=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true, "+": true, "-": true,
	"*": true, "/": true, "&": true, "and": true, "or": true, "meta": true, "as": true, "is": true, "??": true}

// expr parses an expression: operands joined by binary operators.
func (p *parser) expr() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errDepth
	}
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	parts := []node{first}
	for {
		t := p.peek()
		if !(t.kind == tPunct || t.kind == tIdent) || !binary[t.text] {
			break
		}
		meta := t.text == "meta"
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		if !meta { // metadata describes the value; it reads nothing
			parts = append(parts, n)
		}
	}
	if len(parts) == 1 {
		return first, nil
	}
	return groupNode{parts}, nil
}

func (p *parser) unary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errDepth
	}
	switch {
	case p.isWord("let"):
		return p.let()
	case p.isWord("if"):
		return p.ifExpr()
	case p.isWord("each"):
		p.next()
		return p.expr()
	case p.isWord("not"), p.isPunct("-"), p.isPunct("+"):
		p.next()
		return p.unary()
	case p.isWord("type"):
		p.next()
		_, err := p.unary() // a type reads nothing
		return groupNode{}, err
	}
	return p.postfix()
}

func (p *parser) let() (node, error) {
	p.next()
	l := letNode{}
	for !p.isWord("in") {
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		l.names, l.exprs = append(l.names, name), append(l.exprs, e)
		if p.isPunct(",") {
			p.next()
		} else if !p.isWord("in") {
			return nil, fmt.Errorf("expected \",\" or \"in\" after the binding of %s, found %q", name, p.peek().text)
		}
	}
	p.next()
	body, err := p.expr()
	l.body = body
	return l, err
}

func (p *parser) name() (string, error) {
	t := p.next()
	if t.kind != tIdent && t.kind != tQIdent {
		return "", fmt.Errorf("expected a name, found %q", t.text)
	}
	return t.text, nil
}

// fieldName is a record field's name: in brackets M allows generalized
// identifiers, words with spaces between them ([Banklink Units]).
func (p *parser) fieldName() (string, error) {
	if p.peek().kind == tQIdent {
		return p.next().text, nil
	}
	var words []string
	for t := p.peek(); t.kind == tIdent || t.kind == tNumber; t = p.peek() {
		words = append(words, p.next().text)
	}
	if len(words) == 0 {
		return "", fmt.Errorf("expected a field name, found %q", p.peek().text)
	}
	return strings.Join(words, " "), nil
}

func (p *parser) ifExpr() (node, error) {
	p.next()
	var parts []node
	for _, kw := range []string{"then", "else"} {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if !p.isWord(kw) {
			return nil, fmt.Errorf("expected %q, found %q", kw, p.peek().text)
		}
		p.next()
	}
	n, err := p.expr()
	return groupNode{append(parts, n)}, err
}

// postfix parses a primary followed by calls, item access and field access.
func (p *parser) postfix() (node, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for steps := 0; ; steps++ {
		if steps > maxDepth {
			return nil, errDepth
		}
		switch {
		case p.isPunct("("):
			args, err := p.seq("(", ")")
			if err != nil {
				return nil, err
			}
			fn := ""
			if id, ok := n.(identNode); ok {
				fn = id.name
			}
			n = groupNodeIf(fn == "", n, callNode{fn: fn, args: args})
		case p.isPunct("{"):
			p.next()
			sel, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			n = itemNode{n, sel}
		case p.isPunct("["):
			p.next()
			name, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = fieldNode{n, name}
		case p.isPunct("?"):
			p.next() // optional access: the same lineage
		default:
			return n, nil
		}
	}
}

// groupNodeIf keeps the callee's own reads when it is not a plain name.
func groupNodeIf(keep bool, callee node, call callNode) node {
	if keep {
		return groupNode{append([]node{callee}, call.args...)}
	}
	return call
}

func (p *parser) primary() (node, error) {
	t := p.peek()
	switch {
	case t.kind == tString:
		p.next()
		return stringNode{t.text}, nil
	case t.kind == tNumber:
		p.next()
		return groupNode{}, nil
	case t.kind == tIdent || t.kind == tQIdent || t.kind == tHash:
		p.next()
		return identNode{t.text}, nil
	case p.isPunct("{"):
		items, err := p.seq("{", "}")
		return listNode{items}, err
	case p.isPunct("["):
		return p.record()
	case p.isPunct("("):
		return p.paren()
	case t.kind == tEOF:
		return nil, errors.New("the expression ends too early")
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

// paren is a parenthesised expression, or a function literal (x) => body.
func (p *parser) paren() (node, error) {
	start := p.pos
	items, err := p.seq("(", ")")
	if p.isPunct("=>") {
		p.next()
		return p.expr()
	}
	if err != nil {
		p.pos = start
		return nil, err
	}
	return groupNode{items}, nil
}

// record is [a = x, b = y], or [Field] alone (a field of the implicit _).
func (p *parser) record() (node, error) {
	p.next()
	r := recordNode{}
	for !p.isPunct("]") {
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		if p.isPunct("]") && len(r.names) == 0 {
			p.next()
			return fieldNode{identNode{"_"}, name}, nil
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		r.names, r.vals = append(r.names, name), append(r.vals, v)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	return r, p.expect("]")
}

// seq parses open item, item, … close; an empty item (a stray comma) is allowed.
func (p *parser) seq(open, close string) ([]node, error) {
	if err := p.expect(open); err != nil {
		return nil, err
	}
	var items []node
	for !p.isPunct(close) {
		if p.isPunct(",") {
			p.next()
			continue
		}
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
		if p.isPunct("..") || p.isPunct(".") {
			p.next() // {1..10}: a range reads nothing more
		}
		if !p.isPunct(",") && !p.isPunct(close) {
			return nil, fmt.Errorf("expected \",\" or %q, found %q", close, strings.TrimSpace(p.peek().text))
		}
	}
	p.next()
	return items, nil
}
