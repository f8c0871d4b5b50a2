package main

// dmabufEnv is WebKitGTK's switch for its DMA-BUF renderer, which leaves
// the window blank on some Wayland and NVIDIA set-ups.
const dmabufEnv = "WEBKIT_DISABLE_DMABUF_RENDERER"

// disableDMABUF reports whether main sets dmabufEnv=1 before the window
// starts: on Linux only (WebKitGTK), and only if the user has not set it,
// to any value, themselves: WEBKIT_DISABLE_DMABUF_RENDERER=0 brings the
// renderer back on a machine where it works. It costs GPU buffer sharing,
// which a feed of text does not need.
func disableDMABUF(goos string, lookupEnv func(string) (string, bool)) bool {
	if goos != "linux" {
		return false
	}
	_, set := lookupEnv(dmabufEnv)
	return !set
}
