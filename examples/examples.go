// Package examples embeds the example device profiles, so that `vigil serve --demo` can seed a
// living portfolio and tests can use realistic devices.
package examples

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed *.yaml
var files embed.FS

// Profile is one example profile file.
type Profile struct {
	Name string // file name, e.g. insulin-pump.yaml
	Data []byte
}

// All returns every example profile, sorted by file name.
func All() []Profile {
	names, _ := fs.Glob(files, "*.yaml")
	sort.Strings(names)
	out := make([]Profile, 0, len(names))
	for _, n := range names {
		b, _ := files.ReadFile(n)
		out = append(out, Profile{Name: n, Data: b})
	}
	return out
}
