package impact

import (
	"math/bits"
	"sort"
)

// graph is the pull request's graph, with the deleted nodes put back where
// the base graph had them, so that what read them is still downstream.
type graph struct {
	parents map[string][]string // sorted
	changed []string            // sorted; bit i of a set is changed[i]
	index   map[string]int
	memo    map[string]bitset
}

type bitset []uint64

func (b bitset) has(i int) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }

func (b bitset) each(f func(i int)) {
	for w, word := range b {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			f(w*64 + i)
			word &^= 1 << uint(i)
		}
	}
}

func newGraph(base, head *State, deleted map[string]bool, changed []string) *graph {
	g := &graph{parents: map[string][]string{}, changed: changed, index: map[string]int{}, memo: map[string]bitset{}}
	for i, id := range changed {
		g.index[id] = i
	}
	for id, n := range head.Nodes {
		ps := n.Parents
		if base != nil && base.Nodes[id] != nil {
			for _, p := range base.Nodes[id].Parents {
				if deleted[p] {
					ps = append(ps[:len(ps):len(ps)], p)
				}
			}
		}
		g.parents[id] = ps
	}
	for id := range deleted {
		g.parents[id] = base.Nodes[id].Parents
	}
	for id, ps := range g.parents {
		ps = sortedUnique(ps)
		g.parents[id] = ps
	}
	return g
}

// upstream is the set of changed nodes at or above id.
func (g *graph) upstream(id string) bitset {
	if b, ok := g.memo[id]; ok {
		return b
	}
	b := make(bitset, (len(g.changed)+63)/64)
	g.memo[id] = b // a cycle adds nothing
	if i, ok := g.index[id]; ok {
		b[i/64] |= 1 << (uint(i) % 64)
	}
	for _, p := range g.parents[id] {
		if _, known := g.parents[p]; !known {
			continue
		}
		for w, word := range g.upstream(p) {
			b[w] |= word
		}
	}
	return b
}

// path runs from the change to id: from id, each step goes to the first
// parent (by unique ID) that the change is upstream of.
func (g *graph) path(change int, id string) []string {
	out := []string{id}
	for cur := id; cur != g.changed[change]; {
		next := ""
		for _, p := range g.parents[cur] {
			if _, known := g.parents[p]; known && g.upstream(p).has(change) {
				next = p
				break
			}
		}
		if next == "" {
			break
		}
		out, cur = append(out, next), next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func sortedUnique(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[i-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}
