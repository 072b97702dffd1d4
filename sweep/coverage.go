package sweep

import (
	"fmt"
	"sort"
	"strings"

	"snoop/crawler"
)

// notCoveredReasons are the skip reasons that leave pages of a marketplace
// unfetched where listings may be: limits and trap guards. Deny, offsite,
// robots and non-HTML skips are not: those pages are never swept.
var notCoveredReasons = []string{crawler.SkipDepth, crawler.SkipMaxPages,
	crawler.SkipTrapQuery, crawler.SkipTrapDepth, crawler.SkipTrapRepeat}

// uncovered says why a marketplace's crawl did not cover every page where
// one of its listings could be, or "" when it did. rejected counts the
// pages the store refused. Only a covering sweep
// may mark the listings it did not see as gone: a listing pushed onto a
// page beyond max_depth, or cut by a trap guard, is still live.
func uncovered(s crawler.Stats, rejected int) string {
	var why []string
	if rejected > 0 {
		why = append(why, fmt.Sprintf("%d pages rejected by the store", rejected))
	}
	for _, r := range notCoveredReasons {
		if n := s.SkippedByReason[r]; n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, skipWords(r)))
		}
	}
	if n := s.Errors - s.ErrorsByKind[crawler.ErrKindHTTP4xx]; n > 0 {
		why = append(why, fmt.Sprintf("%d pages failed", n))
	}
	gates := 0
	for _, n := range s.Gates {
		gates += n
	}
	if gates > 0 {
		why = append(why, fmt.Sprintf("%d gate pages (CAPTCHA or login)", gates))
	}
	sort.Strings(why)
	return strings.Join(why, ", ")
}

func skipWords(reason string) string {
	switch reason {
	case crawler.SkipDepth:
		return "links beyond max_depth"
	case crawler.SkipMaxPages:
		return "links beyond max_pages"
	case crawler.SkipTrapQuery:
		return "links cut by the query-variant guard"
	case crawler.SkipTrapDepth:
		return "links cut by the path-depth guard"
	case crawler.SkipTrapRepeat:
		return "links cut by the repeated-segment guard"
	}
	return "links skipped (" + reason + ")"
}
