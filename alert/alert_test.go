package alert

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"snoop/config"
	"snoop/store"
)

// memRecorder keeps delivery records in memory.
type memRecorder struct {
	mu   sync.Mutex
	recs []store.AlertRecord
}

func (m *memRecorder) SaveAlert(_ context.Context, a store.AlertRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, a)
	return nil
}

var testEvent = Event{Kind: config.EventHealth, Market: "shop", Title: "marketplace shop needs attention",
	Text: "- price is empty on 100% of 8 listings\n- <b>not markup</b>", Time: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}

// receiver is a local webhook endpoint that answers with the given
// statuses in turn (200 once they run out).
type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, b)
	rc.headers = append(rc.headers, r.Header.Clone())
	status := 200
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func TestWebhookFormats(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	rec := &memRecorder{}
	n := &Notifier{Record: rec, Backoff: time.Millisecond, Config: config.Alerts{Retries: 2, Timeout: 2 * time.Second, Webhooks: []config.Webhook{
		{URL: srv.URL + "/json/SECRET", Format: config.WebhookJSON, Headers: map[string]string{"Authorization": "Bearer t0k"}},
		{URL: srv.URL + "/slack/SECRET", Format: config.WebhookSlack},
		{URL: srv.URL + "/matrix/SECRET", Format: config.WebhookMatrix},
	}}}
	out := n.Send(context.Background(), testEvent)
	if len(out) != 3 || len(rc.bodies) != 3 {
		t.Fatalf("%d outcomes, %d posts; want 3, 3", len(out), len(rc.bodies))
	}
	var asJSON Event
	if err := json.Unmarshal(rc.bodies[0], &asJSON); err != nil || asJSON.Kind != "health" || asJSON.Market != "shop" || asJSON.Title != testEvent.Title {
		t.Errorf("json payload %s (%v)", rc.bodies[0], err)
	}
	if got := rc.headers[0].Get("Authorization"); got != "Bearer t0k" {
		t.Errorf("Authorization header %q", got)
	}
	var slack map[string]string
	json.Unmarshal(rc.bodies[1], &slack)
	if !strings.HasPrefix(slack["text"], "*marketplace shop needs attention*\n- price") {
		t.Errorf("slack payload %s", rc.bodies[1])
	}
	var matrix map[string]string
	json.Unmarshal(rc.bodies[2], &matrix)
	if matrix["msgtype"] != "m.text" || !strings.Contains(matrix["formatted_body"], "&lt;b&gt;not markup&lt;/b&gt;") || matrix["format"] != "org.matrix.custom.html" {
		t.Errorf("matrix payload %s", rc.bodies[2])
	}
	for _, r := range rec.recs {
		if r.Status != store.AlertSent || r.Attempts != 1 || strings.Contains(r.Channel, "SECRET") {
			t.Errorf("record %+v", r)
		}
	}
}

func TestWebhookRetriesAreBounded(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantStatus   string
		wantAttempts int
	}{
		{"recovers", []int{500, 503}, store.AlertSent, 3},
		{"gives up", []int{500, 500, 500, 500, 500}, store.AlertFailed, 3},
		{"client error is final", []int{404}, store.AlertFailed, 1},
		{"rate limited retries", []int{429}, store.AlertSent, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{statuses: tt.statuses}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			rec := &memRecorder{}
			n := &Notifier{Record: rec, Backoff: time.Millisecond, Config: config.Alerts{Retries: 2, Webhooks: []config.Webhook{{URL: srv.URL + "/hook", Format: "json"}}}}
			out := n.Send(context.Background(), testEvent)
			if len(out) != 1 || out[0].Status != tt.wantStatus || out[0].Attempts != tt.wantAttempts {
				t.Fatalf("got %+v, want status %s after %d attempts", out, tt.wantStatus, tt.wantAttempts)
			}
			if len(rc.bodies) != tt.wantAttempts || len(rec.recs) != 1 {
				t.Errorf("%d posts, %d records", len(rc.bodies), len(rec.recs))
			}
			if tt.wantStatus == store.AlertFailed && rec.recs[0].Error == "" {
				t.Error("failure recorded without its reason")
			}
		})
	}
}

func TestWebhookUnreachableIsRecorded(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	rec := &memRecorder{}
	n := &Notifier{Record: rec, Backoff: time.Millisecond, Config: config.Alerts{Retries: 1, Webhooks: []config.Webhook{{URL: "http://" + addr + "/secret-path", Format: "slack"}}}}
	out := n.Send(context.Background(), testEvent)
	if out[0].Status != store.AlertFailed || out[0].Attempts != 2 || strings.Contains(out[0].Error, "secret-path") {
		t.Errorf("got %+v", out[0])
	}
}

// smtpServer is a minimal SMTP receiver on 127.0.0.1: enough of RFC 5321
// for one client at a time, recording each message's envelope and data.
type smtpServer struct {
	l        net.Listener
	starttls bool // advertise STARTTLS (then refuse it)
	mu       sync.Mutex
	msgs     []smtpMessage
	conns    atomic.Int32
}

type smtpMessage struct {
	from string
	to   []string
	data string
}

func newSMTPServer(t *testing.T, starttls bool) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{l: l, starttls: starttls}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 localhost ESMTP test")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			if s.starttls {
				say("250-localhost")
				say("250 STARTTLS")
			} else {
				say("250-localhost")
				say("250 8BITMIME")
			}
		case strings.HasPrefix(cmd, "STARTTLS"):
			say("454 TLS not available")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			from, _, _ := strings.Cut(strings.TrimSpace(line)[10:], ">")
			m = smtpMessage{from: strings.Trim(from, "<> ")}
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = append(m.to, strings.Trim(strings.TrimSpace(line)[8:], "<> "))
			say("250 OK")
		case cmd == "DATA":
			say("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func TestEmailDelivery(t *testing.T) {
	srv := newSMTPServer(t, false)
	rec := &memRecorder{}
	n := &Notifier{Record: rec, Backoff: time.Millisecond, Config: config.Alerts{Retries: 1, Timeout: 3 * time.Second, Email: &config.Email{
		SMTP: srv.l.Addr().String(), From: "snoop <snoop@example.org>", To: []string{"analyst@example.org", "Desk <desk@example.org>"}, TLS: config.EmailNoTLS}}}
	ev := testEvent
	ev.Text = "line one\n.line starting with a dot\nünïcode"
	out := n.Send(context.Background(), ev)
	if len(out) != 1 || out[0].Status != store.AlertSent {
		t.Fatalf("got %+v", out)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.msgs) != 1 {
		t.Fatalf("%d messages received", len(srv.msgs))
	}
	m := srv.msgs[0]
	if m.from != "snoop@example.org" || strings.Join(m.to, ",") != "analyst@example.org,desk@example.org" {
		t.Errorf("envelope %q -> %v", m.from, m.to)
	}
	for _, want := range []string{"From: \"snoop\" <snoop@example.org>\r\n", "Subject: [snoop] marketplace shop needs attention\r\n",
		"Content-Type: text/plain; charset=utf-8\r\n", "X-Snoop-Event: health\r\n", "\r\n\r\nline one\r\n..line starting with a dot\r\nünïcode\r\n"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.data)
		}
	}
}

func TestEmailSTARTTLSRefusedIsRecorded(t *testing.T) {
	srv := newSMTPServer(t, true)
	rec := &memRecorder{}
	n := &Notifier{Record: rec, Backoff: time.Millisecond, Config: config.Alerts{Retries: 2, Timeout: 3 * time.Second, Email: &config.Email{
		SMTP: srv.l.Addr().String(), From: "snoop@example.org", To: []string{"a@example.org"}, TLS: config.EmailSTARTTLS}}}
	out := n.Send(context.Background(), testEvent)
	if out[0].Status != store.AlertFailed || out[0].Attempts != 3 || !strings.Contains(out[0].Error, "starttls") {
		t.Errorf("got %+v", out[0])
	}
	if got := srv.conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3 (bounded retries)", got)
	}
	if len(rec.recs) != 1 || rec.recs[0].Status != store.AlertFailed {
		t.Errorf("records %+v", rec.recs)
	}
}
