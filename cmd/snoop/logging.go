package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
)

// newLogger returns the logger commands use: text lines on w at the given
// level, each key once per line.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&uniqueKeys{h: slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})})
}

// uniqueKeys is a slog.Handler that drops an attribute whose key the line
// already has: a logger made with With("market", m) that is then called
// with "market", m again (a library adding context its caller already
// added) writes market= once. The first value is kept. Attributes inside
// groups are passed on as they are.
type uniqueKeys struct {
	h     slog.Handler
	keys  []string // keys added with WithAttrs outside any group
	group bool     // WithGroup was called: later attributes are in a group
}

func (u *uniqueKeys) Enabled(ctx context.Context, l slog.Level) bool { return u.h.Enabled(ctx, l) }

func (u *uniqueKeys) Handle(ctx context.Context, r slog.Record) error {
	if u.group {
		return u.h.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	seen := slices.Clone(u.keys)
	r.Attrs(func(a slog.Attr) bool {
		if !slices.Contains(seen, a.Key) {
			seen = append(seen, a.Key)
			out.AddAttrs(a)
		}
		return true
	})
	return u.h.Handle(ctx, out)
}

func (u *uniqueKeys) WithAttrs(attrs []slog.Attr) slog.Handler {
	if u.group {
		return &uniqueKeys{h: u.h.WithAttrs(attrs), keys: u.keys, group: true}
	}
	keys := slices.Clone(u.keys)
	var keep []slog.Attr
	for _, a := range attrs {
		if !slices.Contains(keys, a.Key) {
			keys = append(keys, a.Key)
			keep = append(keep, a)
		}
	}
	return &uniqueKeys{h: u.h.WithAttrs(keep), keys: keys}
}

func (u *uniqueKeys) WithGroup(name string) slog.Handler {
	return &uniqueKeys{h: u.h.WithGroup(name), keys: u.keys, group: true}
}
