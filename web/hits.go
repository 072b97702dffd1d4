package web

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"snoop/store"
)

// hitQuery selects, orders and pages hits. The store filters by sweep,
// time, marketplace, substance and status; class, text, the upper time
// bound and the order are applied here.
type hitQuery struct {
	Sweep     int64
	Since     time.Time // last_seen at or after
	Until     time.Time // last_seen before
	Market    string
	Substance string
	Class     string
	Status    string
	Text      string // case-insensitive, in title, text, URL and vendor
	Sort      string // one of sortKeys, "-" prefix for descending
	Limit     int    // 0: all
	Offset    int
}

// sortKeys are the accepted values of the sort parameter (without "-").
var sortKeys = []string{"id", "score", "first_seen", "last_seen", "marketplace", "status", "title"}

// parseHitQuery reads the filters of `snoop hits` (sweep, since, market,
// substance, status) and class, q, until, sort, limit and offset. Times
// are RFC 3339 or YYYY-MM-DD (UTC; until then means the end of that day).
func parseHitQuery(v url.Values) (hitQuery, error) {
	var q hitQuery
	var err error
	if s := v.Get("sweep"); s != "" {
		if q.Sweep, err = strconv.ParseInt(s, 10, 64); err != nil || q.Sweep <= 0 {
			return q, fmt.Errorf("sweep %q: want a positive sweep ID", s)
		}
	}
	if q.Since, err = parseTimeParam("since", v.Get("since"), false); err != nil {
		return q, err
	}
	if q.Until, err = parseTimeParam("until", v.Get("until"), true); err != nil {
		return q, err
	}
	q.Market = strings.TrimSpace(v.Get("market"))
	q.Substance = strings.ToLower(strings.TrimSpace(v.Get("substance")))
	q.Class = strings.ToLower(strings.TrimSpace(v.Get("class")))
	q.Text = strings.TrimSpace(v.Get("q"))
	q.Status = v.Get("status")
	if q.Status != "" && !store.ValidStatus(q.Status) {
		return q, fmt.Errorf("status %q: want new, confirmed or false_positive", q.Status)
	}
	q.Sort = v.Get("sort")
	if q.Sort != "" && !slices.Contains(sortKeys, strings.TrimPrefix(q.Sort, "-")) {
		return q, fmt.Errorf("sort %q: want one of %s (prefix - for descending)", q.Sort, strings.Join(sortKeys, ", "))
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &q.Limit}, {"offset", &q.Offset}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, fmt.Errorf("%s %q: want a number >= 0", p.name, s)
			}
			*p.dst = n
		}
	}
	return q, nil
}

func parseTimeParam(name, s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time or a date YYYY-MM-DD", name, s)
	}
	if endOfDay {
		t = t.Add(24 * time.Hour)
	}
	return t, nil
}

// values returns q as URL parameters (for links that keep the filters).
func (q hitQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Sweep > 0 {
		v.Set("sweep", strconv.FormatInt(q.Sweep, 10))
	}
	if !q.Since.IsZero() {
		set("since", q.Since.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.Format(time.RFC3339))
	}
	set("market", q.Market)
	set("substance", q.Substance)
	set("class", q.Class)
	set("status", q.Status)
	set("q", q.Text)
	set("sort", q.Sort)
	return v
}

// findHits runs q and returns one page of hits and the number of hits that
// match q in all.
func (s *Server) findHits(ctx context.Context, q hitQuery) ([]store.Hit, int, error) {
	hits, err := s.opts.DB.Hits(ctx, store.HitFilter{
		SweepID:   q.Sweep,
		Since:     q.Since,
		Market:    q.Market,
		Substance: q.Substance,
		Status:    q.Status,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list hits: %w", err)
	}
	text := strings.ToLower(q.Text)
	hits = slices.DeleteFunc(hits, func(h store.Hit) bool {
		if !q.Until.IsZero() && !h.LastSeen.Before(q.Until) {
			return true
		}
		if q.Class != "" && !slices.ContainsFunc(h.Substances, func(s store.Substance) bool { return strings.EqualFold(s.Class, q.Class) }) {
			return true
		}
		if text != "" && !containsFold(text, h.Title, h.Text, h.URL, h.Vendor, h.Description) {
			return true
		}
		return false
	})
	sortHits(hits, q.Sort)
	total := len(hits)
	if q.Offset >= len(hits) {
		return nil, total, nil
	}
	hits = hits[q.Offset:]
	if q.Limit > 0 && q.Limit < len(hits) {
		hits = hits[:q.Limit]
	}
	return hits, total, nil
}

func containsFold(lowerNeedle string, hay ...string) bool {
	for _, h := range hay {
		if strings.Contains(strings.ToLower(h), lowerNeedle) {
			return true
		}
	}
	return false
}

func sortHits(hits []store.Hit, key string) {
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	by := func(a, b store.Hit) int { return cmp.Compare(a.ID, b.ID) }
	switch key {
	case "score":
		by = func(a, b store.Hit) int { return cmp.Compare(a.Score, b.Score) }
	case "first_seen":
		by = func(a, b store.Hit) int { return a.FirstSeen.Compare(b.FirstSeen) }
	case "last_seen":
		by = func(a, b store.Hit) int { return a.LastSeen.Compare(b.LastSeen) }
	case "marketplace":
		by = func(a, b store.Hit) int { return strings.Compare(a.Marketplace, b.Marketplace) }
	case "status":
		by = func(a, b store.Hit) int { return strings.Compare(a.Status, b.Status) }
	case "title":
		by = func(a, b store.Hit) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) }
	}
	slices.SortStableFunc(hits, func(a, b store.Hit) int {
		c := by(a, b)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
}

// parseIDs reads hit IDs given as repeated values, each possibly a list
// separated by commas or spaces.
func parseIDs(vals []string) ([]int64, error) {
	var ids []int64
	for _, v := range vals {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil || id <= 0 {
				return nil, fmt.Errorf("hit ID %q: want a positive number", f)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func pathID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
