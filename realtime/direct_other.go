//go:build !unix

package realtime

// initDirect leaves direct writes off: on this platform every frame goes
// through the peer's writer.
func (c *peerConn) initDirect() {}
