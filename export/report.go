package export

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"snoop/evidence"
	"snoop/store"
)

// Limits that keep report.html readable for large cases.
const (
	excerptBytes    = 4096    // page source shown per evidence record
	textFullBytes   = 16384   // listing text up to this size is shown whole
	textContext     = 400     // bytes kept around each match in longer text
	maxInlinePNG    = 2 << 20 // larger screenshots are only listed, not embedded
	reportTimeStyle = "2006-01-02 15:04:05Z07:00"
)

// reportCSP is the Content-Security-Policy of report.html: nothing may be
// loaded or run; only the inline style and data: images are allowed.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

var reportFuncs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(reportTimeStyle)
	},
	"join": strings.Join,
}

var reportTmpl = template.Must(template.New("report").Funcs(reportFuncs).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>snoop case report: {{.M.Case}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:80em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
mark{background:#ffd54f;padding:0 .1em}.gap{color:#777;font-style:italic}
.text{white-space:pre-wrap;border:1px solid #ddd;padding:.5em;background:#fafafa}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;border:1px solid #ddd;padding:.5em;font-size:12px}
section.hit{margin-top:2em}.note{color:#555}img.shot{max-width:100%;border:1px solid #ccc}
</style>
</head>
<body>
<h1>Case report: {{.M.Case}}</h1>
<p class="note">Offline report of a snoop case package. Nothing in this file is loaded from the network and no page content is run: page text and HTML are shown as text only. Marketplace URLs are shown as text, not links. The authoritative records are the WARC files under evidence/, checked by manifest.json and SHA256SUMS.</p>
<table>
<tr><th>Case</th><td>{{.M.Case}}</td></tr>
<tr><th>Created</th><td>{{time .M.CreatedAt}}{{if .M.CreatedBy}} by {{.M.CreatedBy}}{{end}}</td></tr>
<tr><th>Tool</th><td>{{.M.Tool}} {{.M.ToolVersion}}</td></tr>
<tr><th>Rule set in force</th><td class="mono">{{.M.RuleVersion}}</td></tr>
<tr><th>Rule sets of the hits</th><td class="mono">{{join .M.RuleVersions ", "}}</td></tr>
<tr><th>Hits</th><td>{{.M.Counts.Hits}}{{range $k, $v := .M.Counts.HitsByStatus}} · {{$k}}: {{$v}}{{end}}</td></tr>
<tr><th>By substance</th><td>{{range $k, $v := .M.Counts.Substances}}{{$k}}: {{$v}}<br>{{end}}</td></tr>
<tr><th>Evidence</th><td>{{.M.Counts.Evidence}} fetches, {{.M.Counts.WARCRecords}} WARC records in {{.M.Counts.WARCFiles}} files</td></tr>
<tr><th>Screenshots</th><td>{{.M.Counts.Screenshots}}</td></tr>
<tr><th>Custody events</th><td>{{.M.Counts.CustodyEvents}} (custody.log)</td></tr>
</table>
<h2>Sweeps</h2>
<table><tr><th>id</th><th>markets</th><th>status</th><th>started</th><th>finished</th><th>rule set</th></tr>
{{range .M.Sweeps}}<tr><td>{{.ID}}</td><td>{{join .Markets ", "}}</td><td>{{.Status}}</td><td>{{time .StartedAt}}</td><td>{{if .FinishedAt}}{{time .FinishedAt}}{{end}}</td><td class="mono">{{.RuleVersion}}</td></tr>
{{end}}</table>
<h2>Hits</h2>
<table><tr><th>id</th><th>marketplace</th><th>title</th><th>substances</th><th>score</th><th>status</th><th>last seen</th></tr>
{{end}}

{{define "index"}}<tr><td><a href="#hit-{{.H.ID}}">{{.H.ID}}</a></td><td>{{.H.Marketplace}}</td><td>{{.H.Title}}</td><td>{{range $i, $s := .H.Substances}}{{if $i}}, {{end}}{{$s.Name}}{{end}}</td><td>{{printf "%.3f" .H.Score}}</td><td>{{.H.Status}}</td><td>{{time .H.LastSeen}}</td></tr>
{{end}}

{{define "middle"}}</table>
{{end}}

{{define "hit"}}<section class="hit" id="hit-{{.H.ID}}">
<h2>Hit {{.H.ID}}: {{.H.Title}}</h2>
<table>
<tr><th>Marketplace</th><td>{{.H.Marketplace}}</td></tr>
<tr><th>URL</th><td class="mono">{{.H.URL}}</td></tr>
<tr><th>Title</th><td>{{.H.Title}}</td></tr>
<tr><th>Price</th><td>{{.H.Price}}</td></tr>
<tr><th>Vendor</th><td>{{.H.Vendor}}</td></tr>
<tr><th>Score</th><td>{{printf "%.3f" .H.Score}}</td></tr>
<tr><th>Status</th><td>{{.H.Status}}</td></tr>
<tr><th>Rule set</th><td class="mono">{{.H.RuleVersion}}</td></tr>
<tr><th>Sweep</th><td>{{.H.SweepID}}</td></tr>
<tr><th>First seen</th><td>{{time .H.FirstSeen}}</td></tr>
<tr><th>Last seen</th><td>{{time .H.LastSeen}}</td></tr>
<tr><th>Evidence (latest)</th><td class="mono">sha256 {{.H.Evidence.SHA256}}<br>WARC record {{.H.Evidence.WARCRecordID}}</td></tr>
</table>
<h3>Matched terms</h3>
<table><tr><th>substance</th><th>class</th><th>matched text</th><th>bytes</th></tr>
{{range .H.Substances}}<tr><td>{{.Name}}</td><td>{{.Class}}</td><td><mark>{{.Matched}}</mark></td><td>{{.Start}}–{{.End}}</td></tr>
{{end}}</table>
<h3>Listing text</h3>
<div class="text">{{range .Segments}}{{if .Gap}}<span class="gap">[… {{.Text}} …]</span>{{else if .Mark}}<mark title="{{.Term}}">{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</div>
{{if .Description}}<h3>Description</h3><div class="text">{{.Description}}</div>{{end}}
{{if .Shot}}<h3>Screenshot</h3><p class="mono">{{.Shot.Path}} · sha256 {{.Shot.SHA256}}</p>{{if .Shot.DataURI}}<img class="shot" alt="screenshot of hit {{.H.ID}}" src="{{.Shot.DataURI}}">{{else}}<p class="note">Too large to embed; see the file in the package.</p>{{end}}{{end}}
<h3>Evidence records</h3>
{{range .Evidence}}<table>
<tr><th>Fetched</th><td>{{time .FetchedAt}} · {{.Method}} {{.Status}}</td></tr>
<tr><th>URL</th><td class="mono">{{.URL}}</td></tr>
<tr><th>Response sha256</th><td class="mono">{{.SHA256}}</td></tr>
<tr><th>WARC file</th><td class="mono">{{.File}} (response record at offset {{.Offset}})</td></tr>
<tr><th>{{if .RevisitOf}}Revisit record{{else}}Response record{{end}}</th><td class="mono">{{.ResponseID}}</td></tr>
{{if .RevisitOf}}<tr><th>Revisit of</th><td class="mono">{{.RevisitOf}} (fetched {{time .RevisitOfFetched}}): the payload was identical, so only this fetch's status line and headers were kept; the page below is the original's</td></tr>{{end}}
{{if .RequestID}}<tr><th>Request record</th><td class="mono">{{.RequestID}}</td></tr>{{end}}
<tr><th>Block digest</th><td class="mono">{{.BlockDigest}}</td></tr>
<tr><th>Payload digest</th><td class="mono">{{.PayloadDigest}}</td></tr>
<tr><th>Via</th><td class="mono">{{if .Proxy}}proxy {{.Proxy}}{{else}}direct{{if .RemoteAddr}} from {{.RemoteAddr}}{{end}}{{end}}</td></tr>
</table>
<details><summary>Page source (first {{.ExcerptLimit}} bytes, shown as text)</summary><pre>{{.Excerpt}}</pre></details>
{{end}}
</section>
{{end}}

{{define "foot"}}<p class="note">End of report.</p>
</body>
</html>
{{end}}
`))

// reportHead is the data of the "head" template.
type reportHead struct {
	CSP string
	M   *Manifest
}

// reportHit is the data of the "index" and "hit" templates.
type reportHit struct {
	H           store.Hit
	Segments    []segment
	Description string
	Shot        *reportShot
	Evidence    []reportEvidence
}

type reportShot struct {
	Path, SHA256 string
	DataURI      template.URL
}

type reportEvidence struct {
	URL, Method                string
	Status                     int
	FetchedAt                  time.Time
	SHA256                     string
	File                       string
	Offset                     int64
	ResponseID, RequestID      string
	BlockDigest, PayloadDigest string
	Proxy, RemoteAddr          string
	Excerpt                    string
	ExcerptLimit               int
	// RevisitOf is the original's response record id when this fetch is a
	// revisit (payload identical, headers kept); the excerpt is the
	// original's page.
	RevisitOf        string
	RevisitOfFetched time.Time
}

// segment is a run of listing text: plain, a match, or an elided gap.
type segment struct {
	Text      string
	Mark, Gap bool
	Term      string
}

// highlight splits text into segments, marking the substances' byte spans.
// Spans that are out of range or overlap an earlier span are ignored. Text
// longer than textFullBytes keeps textContext bytes around each match and
// elides the rest.
func highlight(text string, subs []store.Substance) []segment {
	spans := make([]store.Substance, 0, len(subs))
	for _, s := range subs {
		if s.Start >= 0 && s.Start < s.End && s.End <= len(text) {
			spans = append(spans, s)
		}
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	var segs []segment
	long := len(text) > textFullBytes
	plain := func(s string, first, last bool) {
		if s == "" {
			return
		}
		if !long || len(s) <= 2*textContext {
			segs = append(segs, segment{Text: s})
			return
		}
		head, tail := textContext, textContext
		if first {
			head = 0
		}
		if last {
			tail = 0
		}
		if head+tail >= len(s) {
			segs = append(segs, segment{Text: s})
			return
		}
		h := cutUTF8(s, head)
		t := s[len(s)-backUTF8(s, tail):]
		if h != "" {
			segs = append(segs, segment{Text: h})
		}
		segs = append(segs, segment{Text: strconv.Itoa(len(s)-len(h)-len(t)) + " bytes not shown", Gap: true})
		if t != "" {
			segs = append(segs, segment{Text: t})
		}
	}
	pos := 0
	for _, s := range spans {
		if s.Start < pos {
			continue
		}
		plain(text[pos:s.Start], pos == 0, false)
		segs = append(segs, segment{Text: text[s.Start:s.End], Mark: true, Term: s.Name})
		pos = s.End
	}
	plain(text[pos:], pos == 0, true)
	return segs
}

// cutUTF8 returns at most n leading bytes of s, not splitting a rune.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// backUTF8 returns how many trailing bytes of s (at most n) to keep
// without splitting a rune.
func backUTF8(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return len(s) - i
}

// pageExcerpt returns the start of a response's body, its transfer and
// content coding removed (evidence.DecodeHTTPResponse), as text for the
// report (the template escapes it).
func pageExcerpt(resp []byte) string {
	d, err := evidence.DecodeHTTPResponse(resp, excerptBytes)
	switch {
	case errors.Is(err, evidence.ErrNotHTTP):
		return strings.ToValidUTF8(string(truncBytes(resp, excerptBytes)), "\uFFFD")
	case err != nil && (d == nil || len(d.Body) == 0):
		return "(body could not be decoded: " + err.Error() + "; see the WARC record)"
	}
	return strings.ToValidUTF8(string(d.Body), "\uFFFD")
}

func truncBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// pngDataURI returns a data: URI for a PNG, or "" when it is too large or
// not a PNG.
func pngDataURI(png []byte) template.URL {
	if len(png) > maxInlinePNG || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
