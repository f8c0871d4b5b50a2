// Package frontend embeds the built web UI (frontend/dist) so that both the
// desktop app and lanfeedd serve the same bundle. Until `npm run build` has
// run, dist holds only a placeholder and the server shows a short notice.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built bundle, rooted at its index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a fixed, embedded directory
	}
	return sub
}
