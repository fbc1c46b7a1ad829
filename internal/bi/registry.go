package bi

import (
	"fmt"
	"sync"
)

// registry holds the connectors in the order they were registered, which is
// the order messages list them in.
var registry struct {
	sync.RWMutex
	list []Connector
}

// Register makes a connector known by its tool's name. Registering a name
// twice is a programming error.
func Register(c Connector) {
	registry.Lock()
	defer registry.Unlock()
	for _, have := range registry.list {
		if have.Tool().Name == c.Tool().Name {
			panic(fmt.Sprintf("bi: connector %q registered twice", c.Tool().Name))
		}
	}
	registry.list = append(registry.list, c)
}

// Unregister forgets a connector; tests that register their own use it.
func Unregister(name string) {
	registry.Lock()
	defer registry.Unlock()
	for i, c := range registry.list {
		if c.Tool().Name == name {
			registry.list = append(registry.list[:i:i], registry.list[i+1:]...)
			return
		}
	}
}

// Lookup finds the connector of a tool by name.
func Lookup(name string) (Connector, bool) {
	registry.RLock()
	defer registry.RUnlock()
	for _, c := range registry.list {
		if c.Tool().Name == name {
			return c, true
		}
	}
	return nil, false
}

// Connectors lists the registered connectors in registration order.
func Connectors() []Connector {
	registry.RLock()
	defer registry.RUnlock()
	return append([]Connector(nil), registry.list...)
}

// Names lists the registered tools' names in registration order.
func Names() []string {
	var out []string
	for _, c := range Connectors() {
		out = append(out, c.Tool().Name)
	}
	return out
}
