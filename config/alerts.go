package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Alerts says where snoop sends alerts (the top-level `alerts:` key):
//
//	alerts:
//	  on: [health, new_hits]        # events to send (default: both)
//	  retries: 3                    # retries per delivery after the first attempt
//	  timeout: 10s                  # per attempt
//	  webhooks:
//	    - url: https://hooks.example/T000/B000/XXXX
//	      format: slack             # json (default) | slack | matrix
//	      headers: {Authorization: "Bearer …"}
//	  email:
//	    smtp: mail.example.org:587
//	    from: snoop@example.org
//	    to: [analysts@example.org]
//	    username: snoop             # optional; the password is read from the environment
//	    password_env: SNOOP_SMTP_PASSWORD
//	    tls: starttls               # starttls (default) | tls | none
type Alerts struct {
	On       []string
	Retries  int
	Timeout  time.Duration
	Webhooks []Webhook
	Email    *Email // nil: no e-mail
}

// Webhook is one webhook receiver.
type Webhook struct {
	URL     string
	Format  string // WebhookJSON, WebhookSlack or WebhookMatrix
	Headers map[string]string
}

// Email is an SMTP relay and the addresses alerts go to.
type Email struct {
	SMTP        string // host:port
	From        string
	To          []string
	Username    string
	PasswordEnv string // environment variable holding the password
	TLS         string // EmailSTARTTLS, EmailTLS or EmailNoTLS
}

// Alert events, webhook formats and e-mail TLS modes.
const (
	EventHealth  = "health"
	EventNewHits = "new_hits"

	WebhookJSON   = "json"
	WebhookSlack  = "slack"
	WebhookMatrix = "matrix"

	EmailSTARTTLS = "starttls"
	EmailTLS      = "tls"
	EmailNoTLS    = "none"
)

// Enabled reports whether alerts are configured and event is sent.
func (a Alerts) Enabled(event string) bool {
	return (len(a.Webhooks) > 0 || a.Email != nil) && slices.Contains(a.On, event)
}

// defaultAlerts are the settings without an `alerts:` key: no channel, both
// events, 3 retries, 10 s per attempt.
func defaultAlerts() Alerts {
	return Alerts{On: []string{EventHealth, EventNewHits}, Retries: 3, Timeout: 10 * time.Second}
}

func (p *parser) alerts(v *yaml.Node, path string) Alerts {
	a := defaultAlerts()
	if isNull(v) {
		return a
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, path, "must be a mapping with webhooks and/or email")
		return a
	}
	p.mapping(v, path, func(key, kpath string, k, n *yaml.Node) {
		switch key {
		case "on":
			a.On = nil
			for i, item := range p.list(n, kpath) {
				s, ok := p.str(item, fmt.Sprintf("%s[%d]", kpath, i))
				if !ok {
					continue
				}
				if s != EventHealth && s != EventNewHits {
					p.errorf(item, fmt.Sprintf("%s[%d]", kpath, i), "unknown event %q (want health or new_hits)", s)
					continue
				}
				a.On = append(a.On, s)
			}
		case "retries":
			p.intMin(n, kpath, 0, &a.Retries)
			if a.Retries > 10 {
				p.errorf(n, kpath, "at most 10, got %d", a.Retries)
			}
		case "timeout":
			if s, ok := p.str(n, kpath); ok {
				d, err := time.ParseDuration(s)
				if err != nil || d <= 0 {
					p.errorf(n, kpath, "invalid duration %q (want e.g. 10s)", s)
				} else {
					a.Timeout = d
				}
			}
		case "webhooks":
			for i, item := range p.list(n, kpath) {
				if w, ok := p.webhook(item, fmt.Sprintf("%s[%d]", kpath, i)); ok {
					a.Webhooks = append(a.Webhooks, w)
				}
			}
		case "email":
			a.Email = p.email(n, kpath)
		default:
			p.errorf(k, kpath, "unknown key (want on, retries, timeout, webhooks or email)")
		}
	})
	return a
}

func (p *parser) webhook(n *yaml.Node, path string) (Webhook, bool) {
	w := Webhook{Format: WebhookJSON}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping with url and format")
		return w, false
	}
	ok := true
	p.mapping(n, path, func(key, kpath string, k, v *yaml.Node) {
		switch key {
		case "url":
			s, _ := p.str(v, kpath)
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.errorf(v, kpath, "%q is not an absolute http(s) URL", s)
				ok = false
				return
			}
			w.URL = s
		case "format":
			s, _ := p.str(v, kpath)
			if s != WebhookJSON && s != WebhookSlack && s != WebhookMatrix {
				p.errorf(v, kpath, "must be json, slack or matrix, got %q", s)
				ok = false
				return
			}
			w.Format = s
		case "headers":
			var s Settings
			p.setting("headers", kpath, v, &s)
			w.Headers = s.Headers
		default:
			p.errorf(k, kpath, "unknown key (want url, format or headers)")
			ok = false
		}
	})
	if w.URL == "" && ok {
		p.errorf(n, path+".url", "missing")
		ok = false
	}
	return w, ok
}

func (p *parser) email(n *yaml.Node, path string) *Email {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping with smtp, from and to")
		return nil
	}
	e := &Email{TLS: EmailSTARTTLS}
	p.mapping(n, path, func(key, kpath string, k, v *yaml.Node) {
		switch key {
		case "smtp":
			s, _ := p.str(v, kpath)
			if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
				p.errorf(v, kpath, "want host:port, got %q", s)
				return
			}
			e.SMTP = s
		case "from":
			s, _ := p.str(v, kpath)
			if _, err := mail.ParseAddress(s); err != nil {
				p.errorf(v, kpath, "invalid address %q", s)
				return
			}
			e.From = s
		case "to":
			for i, item := range p.list(v, kpath) {
				s, _ := p.str(item, fmt.Sprintf("%s[%d]", kpath, i))
				if _, err := mail.ParseAddress(s); err != nil {
					p.errorf(item, fmt.Sprintf("%s[%d]", kpath, i), "invalid address %q", s)
					continue
				}
				e.To = append(e.To, s)
			}
		case "username":
			e.Username, _ = p.str(v, kpath)
		case "password_env":
			e.PasswordEnv, _ = p.str(v, kpath)
		case "password":
			p.errorf(k, kpath, "do not put the password in the file: set password_env to the name of an environment variable")
		case "tls":
			s, _ := p.str(v, kpath)
			if s != EmailSTARTTLS && s != EmailTLS && s != EmailNoTLS {
				p.errorf(v, kpath, "must be starttls, tls or none, got %q", s)
				return
			}
			e.TLS = s
		default:
			p.errorf(k, kpath, "unknown key (want smtp, from, to, username, password_env or tls)")
		}
	})
	for _, req := range []struct{ key, val string }{{"smtp", e.SMTP}, {"from", e.From}} {
		if req.val == "" {
			p.errorf(n, path+"."+req.key, "missing")
		}
	}
	if len(e.To) == 0 {
		p.errorf(n, path+".to", "missing: at least one address")
	}
	if strings.TrimSpace(e.Username) != "" && e.PasswordEnv == "" {
		p.errorf(n, path+".password_env", "missing: username needs password_env")
	}
	return e
}
