package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// defaultHealthURL is what `snoop health` asks without --url or
// $SNOOP_HEALTH_URL: serve's default address.
const defaultHealthURL = "http://127.0.0.1:8080/healthz"

func runHealth(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "health", "",
		"Ask a running snoop serve whether it is up (GET /healthz answers 200 \"ok\"); exit 0 if so, 1 if not.\n"+
			"The container image's HEALTHCHECK runs it.")
	def := os.Getenv("SNOOP_HEALTH_URL")
	if def == "" {
		def = defaultHealthURL
	}
	url := fs.String("url", def, "`URL` of serve's /healthz (default $SNOOP_HEALTH_URL, else "+defaultHealthURL+")")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("health: --url %q: %v", *url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("health: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
