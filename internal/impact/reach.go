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
	paths   map[string][][]string // nearest, by node
}

type bitset []uint64

func (b bitset) has(i int) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }

func (b bitset) count() int {
	n := 0
	for _, word := range b {
		n += bits.OnesCount64(word)
	}
	return n
}

func newGraph(base, head *State, deleted map[string]bool, changed []string) *graph {
	g := &graph{parents: map[string][]string{}, changed: changed, index: map[string]int{}, memo: map[string]bitset{}, paths: map[string][][]string{}}
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

// maxPaths is how many paths an impact lists: those from the nearest
// changes. The others are counted (Impact.Upstream); listing every path from
// every change above a mart of a large project would be megabytes per
// dashboard, and of no use to a reviewer.
const maxPaths = 5

// nearest are the paths to id from the changes nearest it, at most
// maxPaths, shortest first: a breadth-first walk up the parents, in order of
// unique ID, so the same graph gives the same paths. Each node's are found
// once, for all the dashboards that read it.
func (g *graph) nearest(id string) [][]string {
	if p, ok := g.paths[id]; ok {
		return p
	}
	next := map[string]string{id: ""}
	queue := []string{id}
	var out [][]string
	for len(queue) > 0 && len(out) < maxPaths {
		cur := queue[0]
		queue = queue[1:]
		if _, changed := g.index[cur]; changed {
			var path []string
			for n := cur; n != ""; n = next[n] {
				path = append(path, n)
			}
			out = append(out, path)
		}
		for _, p := range g.parents[cur] {
			if _, seen := next[p]; !seen {
				next[p] = cur
				queue = append(queue, p)
			}
		}
	}
	g.paths[id] = out
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
