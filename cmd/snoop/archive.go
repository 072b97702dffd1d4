package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"snoop/export"
	"snoop/store"
)

func runArchive(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "archive", "",
		"Write every evidence record of a sweep (request, response or revisit, and metadata records of every\n"+
			"archived page, plus the earlier captures its revisits refer to) as WARC 1.1 files in DIR, with SHA256SUMS.\n"+
			"Existing files are never overwritten.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	sweepID := fs.Int64("sweep", 0, "`ID` of the sweep to archive (required)")
	out := fs.String("out", "", "directory `DIR` to write the WARC files and SHA256SUMS to, created if missing (required)")
	maxSize := fs.String("max-size", "1GB", "compressed `SIZE` at which a new WARC file is started (B, KB, MB, GB, KiB, MiB, GiB)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sweepID <= 0 {
		fs.Usage()
		return usagef("archive: --sweep ID is required (a positive sweep ID)")
	}
	if *out == "" {
		fs.Usage()
		return usagef("archive: --out DIR is required")
	}
	limit, err := parseSize(*maxSize)
	if err != nil {
		return usagef("archive: --max-size %q: %v", *maxSize, err)
	}
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
	}
	db, err := openDBAs(ctx, *dbPath, analyst, false)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := export.Archive(ctx, db, *sweepID, *out, export.ArchiveOptions{
		ToolVersion: buildInfo().Version,
		Actor:       analyst,
		MaxFileSize: limit,
		Now:         func() time.Time { return time.Now().UTC() },
		Logger:      newLogger(e.stderr, slog.LevelWarn),
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("archive: no sweep %d", *sweepID)
	}
	if err != nil {
		return err
	}
	for _, f := range sum.Files {
		fmt.Fprintf(e.stdout, "%s  %s  %d records  %d bytes\n", f.SHA256, filepath.Join(sum.Dir, f.Name), f.Records, f.Bytes)
	}
	fmt.Fprintf(e.stdout, "archived sweep %d: %d fetches (+%d earlier originals), %d records, %d files, %d bytes; checksums in %s\n",
		sum.Sweep, sum.Fetches, sum.Originals, sum.Records, len(sum.Files), sum.Bytes, filepath.Join(sum.Dir, export.SumsFile))
	return nil
}

// parseSize reads a byte count such as "1GB" (10^9), "512MiB" (2^29) or
// "1048576".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive size such as 1GB, 500MB or 512MiB")
	}
	mult := map[string]int64{
		"": 1, "B": 1,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q: want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", s[i:])
	}
	if n > (1<<63-1)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}
