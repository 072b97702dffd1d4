package evidence

import (
	"strings"
	"testing"
)

func TestRedactProxy(t *testing.T) {
	tests := []struct {
		in, want, secret string
	}{
		{"", "", ""},
		{"socks5h://127.0.0.1:9050", "socks5h://127.0.0.1:9050", ""},
		{"http://user:hunter2@proxy.example:3128", "http://xxxxx@proxy.example:3128", "hunter2"},
		// A proxy service's API key given as the user name is a secret too.
		{"http://k3y-s3cret@proxy.example:8080", "http://xxxxx@proxy.example:8080", "k3y-s3cret"},
		// Without a scheme url.Parse takes "user" as the scheme.
		{"user:hunter2@proxy.example:3128", "xxxxx@proxy.example:3128", "hunter2"},
		// Not parseable as a URL at all.
		{"http://user:hun%zzter2@proxy.example:3128", "http://xxxxx@proxy.example:3128", "hun%zzter2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := RedactProxy(tt.in)
			if got != tt.want {
				t.Errorf("RedactProxy(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("RedactProxy(%q) = %q still holds the secret", tt.in, got)
			}
		})
	}
}

func TestProvenanceHidesProxyUserName(t *testing.T) {
	f := Fetch{URL: "http://shop.example/", Proxy: "http://k3y-s3cret@proxy.example:8080"}
	if got := f.Provenance().Proxy; strings.Contains(got, "k3y-s3cret") {
		t.Errorf("metadata record's proxy = %q, holds the proxy's API key", got)
	}
}
