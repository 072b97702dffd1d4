package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"snoop/store"
)

// hitQuery selects, orders and pages hits: the query parameters of the
// hits page and /api/hits. The store does the filtering, ordering and
// paging (see filter).
type hitQuery struct {
	Sweep     int64
	Since     time.Time // hit last detected at or after
	Until     time.Time // listing last seen before
	Market    string
	Substance string
	Class     string
	Status    string
	Text      string // case-insensitive, in title, description, text, URL and vendor
	Sort      string // one of sortKeys, "-" prefix for descending
	Limit     int    // 0: all
	Offset    int
}

// sortKeys are the accepted values of the sort parameter (without "-").
var sortKeys = store.HitSortKeys()

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

// filter returns q as a store filter.
func (q hitQuery) filter() store.HitFilter {
	return store.HitFilter{
		SweepID:   q.Sweep,
		Since:     q.Since,
		Until:     q.Until,
		Market:    q.Market,
		Substance: q.Substance,
		Class:     q.Class,
		Status:    q.Status,
		Text:      q.Text,
		Sort:      q.Sort,
		Limit:     q.Limit,
		Offset:    q.Offset,
	}
}

// findHits runs q and returns one page of hits and the number of hits that
// match q in all.
func (s *Server) findHits(ctx context.Context, q hitQuery) ([]store.Hit, int, error) {
	f := q.filter()
	f.MaxText = maxListText
	hits, err := s.opts.DB.Hits(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list hits: %w", err)
	}
	total, err := s.opts.DB.CountHits(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list hits: %w", err)
	}
	return hits, total, nil
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
