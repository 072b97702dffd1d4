// Package alert delivers snoop's alerts (a marketplace's health turned bad,
// new hits) by webhook and by e-mail over SMTP, as set up under `alerts:` in
// the marketplace config.
//
// A webhook receives a JSON POST: the Event itself (format json), a Slack
// incoming-webhook message {"text": …} (format slack), or a Matrix
// m.room.message {"msgtype": "m.text", "body": …, "formatted_body": …}
// (format matrix). Each delivery is tried at most 1+retries times with
// doubling delays; every outcome, sent or failed, goes to the Recorder. A
// failed alert is recorded and logged, never returned as an error: alerts
// must not stop a sweep.
package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"strings"
	"time"

	"snoop/config"
	"snoop/store"
)

// Event is one alert.
type Event struct {
	Kind    string    `json:"event"` // config.EventHealth or config.EventNewHits
	Market  string    `json:"market,omitempty"`
	Title   string    `json:"title"`
	Text    string    `json:"text"`
	Time    time.Time `json:"time"`
	Details any       `json:"details,omitempty"`
}

// Recorder keeps the outcome of each delivery (store.DB is one).
type Recorder interface {
	SaveAlert(ctx context.Context, a store.AlertRecord) error
}

// Notifier sends events to the configured channels. Config is required;
// the other fields have usable zero values.
type Notifier struct {
	Config config.Alerts
	Client *http.Client // nil: a client with Config.Timeout
	Record Recorder     // nil: outcomes are only logged
	Logger *slog.Logger
	Now    func() time.Time
	// Backoff is the delay before the first retry, doubled for each next
	// one; 0 means one second.
	Backoff time.Duration
	// Getenv reads the SMTP password variable; nil means os.Getenv.
	Getenv func(string) string
	// TLSConfig is the base TLS configuration for SMTP (RootCAs); nil: system roots.
	TLSConfig *tls.Config
}

// Send delivers ev to every channel and returns the outcome of each.
func (n *Notifier) Send(ctx context.Context, ev Event) []store.AlertRecord {
	if ev.Time.IsZero() {
		ev.Time = n.now()
	}
	var out []store.AlertRecord
	for _, w := range n.Config.Webhooks {
		out = append(out, n.deliver(ctx, ev, "webhook:"+redact(w.URL), func(ctx context.Context) (bool, error) {
			return n.postWebhook(ctx, w, ev)
		}))
	}
	if e := n.Config.Email; e != nil {
		out = append(out, n.deliver(ctx, ev, "smtp:"+e.SMTP, func(ctx context.Context) (bool, error) {
			return true, n.sendMail(ctx, *e, ev)
		}))
	}
	return out
}

// deliver runs try with bounded retries and records the outcome. try
// reports whether a failure may pass on a retry.
func (n *Notifier) deliver(ctx context.Context, ev Event, channel string, try func(context.Context) (bool, error)) store.AlertRecord {
	rec := store.AlertRecord{Event: ev.Kind, Market: ev.Market, Channel: channel}
	delay := n.Backoff
	if delay <= 0 {
		delay = time.Second
	}
	var err error
	for attempt := 0; attempt <= n.Config.Retries; attempt++ {
		rec.Attempts++
		actx, cancel := context.WithTimeout(ctx, n.timeout())
		var retry bool
		retry, err = try(actx)
		cancel()
		if err == nil || !retry || ctx.Err() != nil || attempt == n.Config.Retries {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		delay *= 2
	}
	rec.SentAt, rec.Status = n.now(), store.AlertSent
	if err != nil {
		rec.Status, rec.Error = store.AlertFailed, err.Error()
		n.log().Warn("alert not delivered", "channel", channel, "event", ev.Kind, "market", ev.Market, "attempts", rec.Attempts, "err", err)
	}
	if n.Record != nil {
		if rerr := n.Record.SaveAlert(context.WithoutCancel(ctx), rec); rerr != nil {
			n.log().Error("record alert", "err", rerr)
		}
	}
	return rec
}

// Payload is the body a webhook of the given format receives for ev.
func Payload(format string, ev Event) ([]byte, error) {
	switch format {
	case config.WebhookSlack:
		return json.Marshal(map[string]string{"text": "*" + ev.Title + "*\n" + ev.Text})
	case config.WebhookMatrix:
		return json.Marshal(map[string]string{
			"msgtype":        "m.text",
			"body":           ev.Title + "\n" + ev.Text,
			"format":         "org.matrix.custom.html",
			"formatted_body": "<strong>" + html.EscapeString(ev.Title) + "</strong><br>" + strings.ReplaceAll(html.EscapeString(ev.Text), "\n", "<br>"),
		})
	}
	return json.Marshal(ev)
}

func (n *Notifier) postWebhook(ctx context.Context, w config.Webhook, ev Event) (bool, error) {
	body, err := Payload(w.Format, ev)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "snoop-alerts")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: n.timeout()}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error // its message holds the URL, whose path may be a secret
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		retry := resp.StatusCode >= 500 || resp.StatusCode == 408 || resp.StatusCode == 429
		return retry, fmt.Errorf("post webhook: %s", resp.Status)
	}
	return false, nil
}

// sendMail sends ev as a plain-text message through the SMTP relay.
func (n *Notifier) sendMail(ctx context.Context, e config.Email, ev Event) error {
	host, _, err := net.SplitHostPort(e.SMTP)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.SMTP, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.SMTP)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if n.TLSConfig != nil {
		tlsConf = n.TLSConfig.Clone()
		tlsConf.ServerName = host
	}
	if e.TLS == config.EmailTLS {
		conn = tls.Client(conn, tlsConf)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", e.SMTP, err)
	}
	defer c.Close()
	if e.TLS == config.EmailSTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS (set tls: none to send in clear, or tls: tls for implicit TLS)", e.SMTP)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", e.SMTP, err)
		}
	}
	if e.Username != "" {
		getenv := n.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		pw := getenv(e.PasswordEnv)
		if pw == "" {
			return fmt.Errorf("smtp %s: the password variable %s is not set", e.SMTP, e.PasswordEnv)
		}
		if err := c.Auth(smtp.PlainAuth("", e.Username, pw, host)); err != nil {
			return fmt.Errorf("smtp %s: auth: %w", e.SMTP, err)
		}
	}
	from, _ := mail.ParseAddress(e.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp %s: mail from: %w", e.SMTP, err)
	}
	var to []string
	for _, t := range e.To {
		a, _ := mail.ParseAddress(t)
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("smtp %s: rcpt %s: %w", e.SMTP, a.Address, err)
		}
		to = append(to, a.String())
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: data: %w", e.SMTP, err)
	}
	if _, err := w.Write(message(from.String(), to, ev, host)); err != nil {
		return fmt.Errorf("smtp %s: write: %w", e.SMTP, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: end of data: %w", e.SMTP, err)
	}
	return c.Quit()
}

// message is an RFC 5322 plain-text message.
func message(from string, to []string, ev Event, host string) []byte {
	var b strings.Builder
	id := make([]byte, 12)
	rand.Read(id)
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "[snoop] "+ev.Title))
	hdr("Date", ev.Time.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@snoop."+host+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("X-Snoop-Event", ev.Kind)
	b.WriteString("\r\n")
	for _, line := range strings.Split(ev.Text, "\n") {
		b.WriteString(strings.TrimRight(line, "\r") + "\r\n")
	}
	return []byte(b.String())
}

// redact keeps a webhook URL's scheme and host: its path often is the secret.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

func (n *Notifier) timeout() time.Duration {
	if n.Config.Timeout > 0 {
		return n.Config.Timeout
	}
	return 10 * time.Second
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.New(slog.DiscardHandler)
}
