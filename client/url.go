package client

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// wsURL turns a node address (http://host:port, ws://host:port/ws or
// host:port) into the websocket URL that cfg asks for: /ws unless the
// address names another path, with name, token, presence and resume in the
// query.
func wsURL(cfg Config) (*url.URL, error) {
	raw := cfg.URL
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a node URL", raw)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("%q: scheme must be http or ws", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	q := u.Query()
	if cfg.Name != "" {
		q.Set("name", cfg.Name)
	}
	if cfg.Token != "" {
		q.Set("token", cfg.Token)
	}
	if cfg.NoPresence {
		q.Set("presence", "0")
	}
	if cfg.OwnPostsOnly {
		q.Set("origin", "self")
	}
	if r := cfg.Resume; r != nil {
		q.Set("since", strconv.FormatInt(r.Seq, 10))
		if r.Epoch != "" {
			q.Set("epoch", r.Epoch)
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u, nil
}
