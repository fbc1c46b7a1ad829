package dbtcloud

import (
	"reflect"
	"strings"
)

// configFields maps each IntegrationConfig field's API name to its index, so
// callers that describe a tool's config by name (the provider's connection
// resources) need no code per tool.
var configFields = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[IntegrationConfig]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = i
	}
	return out
}()

// Field is the config field the API calls name (config.<name>), or nil when
// the config has no such field.
func (c *IntegrationConfig) Field(name string) **string {
	i, ok := configFields[name]
	if !ok {
		return nil
	}
	return reflect.ValueOf(c).Elem().Field(i).Addr().Interface().(**string)
}
