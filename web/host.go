package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// hostCheck decides which Host header values the server answers. A page
// the analyst visits can point its own DNS name at 127.0.0.1 (DNS
// rebinding); the browser then treats the workbench as that page's origin
// and sends its name as Host. Answering only the names of the address
// being served, and the names the operator configured, refuses it.
type hostCheck struct {
	exact  map[string]bool // lower-case host[:port] values
	anyIP  string          // port on which any IP literal is accepted ("": none)
	anyLo  bool            // loopback names on any port (no address known)
	listed []string        // for messages
}

// loopbackNames are the host names that always mean this machine.
var loopbackNames = []string{"127.0.0.1", "localhost", "[::1]"}

// newHostCheck builds the check for a server listening on addr (host:port;
// "" when unknown) and reached at publicURLs.
func newHostCheck(addr string, publicURLs []string) (*hostCheck, error) {
	hc := &hostCheck{exact: map[string]bool{}}
	add := func(host, port, defaultPort string) {
		host = strings.ToLower(host)
		if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
			host = "[" + host + "]"
		}
		hp := host
		if port != "" {
			hp = host + ":" + port
		}
		if !hc.exact[hp] {
			hc.exact[hp] = true
			hc.listed = append(hc.listed, hp)
		}
		if port == defaultPort || port == "" {
			hc.exact[host] = true
		}
	}
	if addr == "" {
		hc.anyLo = true
	} else {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("web: listen address %q: want HOST:PORT", addr)
		}
		ip := net.ParseIP(host)
		switch {
		case host == "" || ip != nil && ip.IsUnspecified():
			// Every address of the machine: IP literals cannot be rebound.
			hc.anyIP = port
		case host == "localhost" || ip != nil && ip.IsLoopback():
		default:
			add(host, port, "80")
		}
		for _, n := range loopbackNames {
			add(n, port, "80")
		}
	}
	for _, raw := range publicURLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
			return nil, fmt.Errorf("web: public URL %q: want http://HOST[:PORT] or https://HOST[:PORT]", raw)
		}
		def := "80"
		if u.Scheme == "https" {
			def = "443"
		}
		port := u.Port()
		if port == "" {
			port = def
		}
		add(u.Hostname(), port, def)
	}
	return hc, nil
}

// allowed reports whether a request's Host value names this server.
func (hc *hostCheck) allowed(hostHeader string) bool {
	h := strings.ToLower(hostHeader)
	if hc.exact[h] {
		return true
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
	}
	if hc.anyLo {
		for _, n := range loopbackNames {
			if host == strings.Trim(n, "[]") {
				return true
			}
		}
	}
	if hc.anyIP != "" && port == hc.anyIP && net.ParseIP(host) != nil {
		return true
	}
	return false
}

// refuseHost answers a request sent to a name this server does not serve.
// It sets no cookie and renders nothing of the workbench.
func (s *Server) refuseHost(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("request for an unknown host refused (DNS rebinding?)", "host", r.Host, "remote", r.RemoteAddr, "path", r.URL.Path)
	msg := fmt.Sprintf("unknown host %q: snoop serve answers only to the address it listens on; "+
		"to reach it under another name, start it with --public-url", r.Host)
	if isAPI(r) {
		writeError(w, http.StatusMisdirectedRequest, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMisdirectedRequest)
	fmt.Fprintln(w, msg)
}
