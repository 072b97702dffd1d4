package screenshot

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Cookie is a session cookie to send, with the URL it belongs to (needed
// for host-only cookies, which name no domain).
type Cookie struct {
	URL    string
	Cookie *http.Cookie
}

// applySession makes the tab present itself as the crawl does: the same
// user agent, extra headers and cookies, so a login-walled marketplace is
// rendered as the logged-in crawl saw it and not as its login page.
func (t *Taker) applySession(ctx context.Context, tgt *chromedp.Target) error {
	if t.userAgent != "" {
		if _, err := cdp.Call(ctx, tgt, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: t.userAgent}); err != nil {
			return fmt.Errorf("set user agent: %w", err)
		}
	}
	if len(t.headers) > 0 {
		h := network.Headers{}
		for k, v := range t.headers {
			h[k] = v
		}
		if _, err := cdp.Call(ctx, tgt, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h}); err != nil {
			return fmt.Errorf("set headers: %w", err)
		}
	}
	if len(t.cookies) > 0 {
		params := make([]*network.CookieParam, 0, len(t.cookies))
		for _, c := range t.cookies {
			p := &network.CookieParam{Name: c.Cookie.Name, Value: c.Cookie.Value, URL: c.URL, Domain: c.Cookie.Domain,
				Path: c.Cookie.Path, Secure: c.Cookie.Secure, HTTPOnly: c.Cookie.HttpOnly}
			if !c.Cookie.Expires.IsZero() {
				p.Expires = cdp.TimeSinceEpoch(float64(c.Cookie.Expires.Unix()))
			}
			params = append(params, p)
		}
		if _, err := cdp.Call(ctx, tgt, network.SetCookies, network.SetCookiesParams{Cookies: params}); err != nil {
			return fmt.Errorf("set cookies: %w", err)
		}
	}
	return nil
}
