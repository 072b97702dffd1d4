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
mark{padding:0 .1em}mark.substance{background:#ffd54f}mark.sales{background:#ffab91;border-bottom:2px solid #d84315}
mark.exclude{background:#c5e1a5}mark.support{background:#b3e5fc}.gap{color:#777;font-style:italic}
.text{white-space:pre-wrap;border:1px solid #ddd;padding:.5em;background:#fafafa}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;border:1px solid #ddd;padding:.5em;font-size:12px}
section.hit{margin-top:2em;break-before:page}.note{color:#555}img.shot{max-width:100%;border:1px solid #ccc}
table.summary{font-size:12px;width:100%}table.summary td{word-break:break-word}
.decision-confirmed{color:#1b5e20;font-weight:bold}.decision-false_positive{color:#b71c1c;font-weight:bold}.decision-new{color:#444}
section.summary{break-after:page}.explain p{max-width:60em}
</style>
</head>
<body>
<section class="summary">
<h1>Case report: {{.M.Case}}</h1>
<p>{{.M.Counts.Hits}} hit(s){{range $k, $v := .M.Counts.HitsByStatus}} · {{$k}}: {{$v}}{{end}}. Package made {{time .M.CreatedAt}}{{if .M.CreatedBy}} by {{.M.CreatedBy}}{{end}}. {{.Selection}}</p>
<table class="summary"><tr><th>hit</th><th>vendor</th><th>marketplace</th><th>substance</th><th>price</th><th>first seen</th><th>last seen</th><th>decision</th></tr>
{{end}}

{{define "index"}}<tr><td><a href="#hit-{{.H.ID}}">{{.H.ID}}</a></td><td>{{.H.Vendor}}</td><td>{{.H.Marketplace}}</td><td>{{range $i, $s := .Names}}{{if $i}}, {{end}}{{$s}}{{end}}</td><td>{{.H.Price}}</td><td>{{time .H.FirstSeen}}</td><td>{{time .H.LastSeen}}</td><td class="decision-{{.H.Status}}">{{.H.Status}}{{with .Decision}} · {{.Actor}}, {{time .At}}{{end}}</td></tr>
{{end}}

{{define "middle"}}</table>
</section>
<section class="explain">
<h2>What this package is</h2>
<p>snoop is a program that searches web marketplaces, shops, classified-ad boards and forums for offers of fentanyl, fentanyl analogues, nitazenes and other synthetic opioids. It downloads the pages of the marketplaces it is configured to watch, reads the listings on them, and flags a listing as a <em>hit</em> when its text names such a substance in a context of sale (a price, a quantity, shipping, payment). It applies fixed, published rules; the rule set in force is identified by the digest shown below. An analyst then reviews each hit and records a decision: <em>confirmed</em> (an offer), <em>false_positive</em> (not an offer) or <em>new</em> (not yet reviewed).</p>
<h2>How the pages were captured</h2>
<p>Each page was downloaded by snoop itself, over HTTP or HTTPS, at the time shown with each capture below (UTC). snoop kept the exact bytes it sent and received (request line, headers and body, before any decoding) in WARC files, the ISO 28500 format used by web archives. For each capture the report shows the server address the connection went to, where it was known, and the proxy it went through (for example Tor), or "direct". Credentials in proxy addresses are removed. When a page was fetched again and had not changed, snoop kept only the new response headers, as a WARC <em>revisit</em> record that points to the original capture; the package holds both.</p>
<p>A listing may be one ad among many on a list page (a classified-ad board, a forum thread). Its evidence is then the list page where it was found, so the evidence URL can differ from the listing's own URL. Screenshots, when taken, are rendered by headless Chromium after the capture; the time and the URL are given with each.</p>
<h2>What the digests prove</h2>
<p>A SHA-256 digest is a 64-character fingerprint of a file: changing a single byte gives a completely different digest, and no one can make a different file with the same digest. manifest.json lists every file of this package with its digest and size, and SHA256SUMS repeats them. If the digests still match, the files are the ones snoop wrote when the package was made{{if .M.Signature}}; the signature over manifest.json (key {{.M.Signature.Fingerprint}}) shows that the holder of that key made the package{{end}}. Inside each WARC file, every record carries a digest of its own content (WARC-Block-Digest) and of the page (WARC-Payload-Digest). The digests prove that nothing changed after capture; they do not prove what the server showed to other visitors.</p>
<p>custody.log is an extract of snoop's audit log: sweeps, reviews and exports, each with who and when. Every row carries the digest of its contents and of the row before it (a hash chain), so a row that was edited, removed or reordered breaks the chain. {{.Custody}}</p>
<h2>How to re-check this package</h2>
<ul>
<li>Unzip it, then in its folder run <code>sha256sum -c SHA256SUMS</code> (Linux, macOS: <code>shasum -a 256 -c SHA256SUMS</code>): every line must say OK.</li>
<li>With snoop: <code>snoop verify PACKAGE.zip</code>{{if .M.Signature}} <code>--pub-key KEY.pub</code>{{end}} re-checks every file, every WARC record's digests, the hits' references into the evidence, the custody log's chain{{if .M.Signature}}, the signature{{end}} and any RFC 3161 time stamp (manifest.json.tsr).</li>
<li>With any WARC tool (for example warcio: <code>warcio check evidence/*.warc.gz</code>, or a replay tool such as pywb): the files under evidence/ are standard WARC 1.1.</li>
</ul>
<p class="note">This report is one offline file. Nothing in it is loaded from the network and no page content is run: page text and HTML are shown as text only, and marketplace URLs are shown as text, not links. The authoritative records are the WARC files under evidence/.</p>
</section>
<h2>Package</h2>
<table>
<tr><th>Case</th><td>{{.M.Case}}</td></tr>
<tr><th>Created</th><td>{{time .M.CreatedAt}}{{if .M.CreatedBy}} by {{.M.CreatedBy}}{{end}}</td></tr>
<tr><th>Tool</th><td>{{.M.Tool}} {{.M.ToolVersion}}</td></tr>
<tr><th>Rule set in force</th><td class="mono">{{.M.RuleVersion}}</td></tr>
<tr><th>Rule sets of the hits</th><td class="mono">{{join .M.RuleVersions ", "}}</td></tr>
<tr><th>By substance</th><td>{{range $k, $v := .M.Counts.Substances}}{{$k}}: {{$v}}<br>{{end}}</td></tr>
<tr><th>Evidence</th><td>{{.M.Counts.Evidence}} captures, {{.M.Counts.WARCRecords}} WARC records in {{.M.Counts.WARCFiles}} files</td></tr>
<tr><th>Screenshots</th><td>{{.M.Counts.Screenshots}}</td></tr>
<tr><th>Custody events</th><td>{{.M.Counts.CustodyEvents}} (custody.log)</td></tr>
</table>
<h2>Sweeps</h2>
<table><tr><th>id</th><th>markets</th><th>status</th><th>started</th><th>finished</th><th>rule set</th></tr>
{{range .M.Sweeps}}<tr><td>{{.ID}}</td><td>{{join .Markets ", "}}</td><td>{{.Status}}</td><td>{{time .StartedAt}}</td><td>{{if .FinishedAt}}{{time .FinishedAt}}{{end}}</td><td class="mono">{{.RuleVersion}}</td></tr>
{{end}}</table>
{{end}}

{{define "hit"}}<section class="hit" id="hit-{{.H.ID}}">
<h2>Hit {{.H.ID}}: {{.H.Title}}</h2>
<h3>Decision</h3>
{{with .Decision}}<p class="decision-{{.Status}}">{{.Status}}, by {{.Actor}} at {{time .At}}</p>{{if .Note}}<p>Note: {{.Note}}</p>{{else}}<p class="note">No note was given.</p>{{end}}{{else}}<p class="note">Not reviewed: status {{.H.Status}}, as set when snoop flagged it.</p>{{end}}
{{if gt (len .Reviews) 1}}<table><tr><th>time</th><th>analyst</th><th>status</th><th>note</th></tr>
{{range .Reviews}}<tr><td>{{time .At}}</td><td>{{.Actor}}</td><td>{{.Status}}</td><td>{{.Note}}</td></tr>
{{end}}</table>{{end}}
<table>
<tr><th>Marketplace</th><td>{{.H.Marketplace}}</td></tr>
<tr><th>Listing URL</th><td class="mono">{{.H.URL}}</td></tr>
<tr><th>Title</th><td>{{.H.Title}}</td></tr>
<tr><th>Price</th><td>{{.H.Price}}</td></tr>
<tr><th>Vendor</th><td>{{.H.Vendor}}</td></tr>
<tr><th>Score</th><td>{{printf "%.3f" .H.Score}}</td></tr>
<tr><th>Rule set</th><td class="mono">{{.H.RuleVersion}}</td></tr>
<tr><th>Sweep</th><td>{{.H.SweepID}}</td></tr>
<tr><th>First seen</th><td>{{time .H.FirstSeen}}</td></tr>
<tr><th>Last seen</th><td>{{time .H.LastSeen}}</td></tr>
<tr><th>Evidence (latest)</th><td class="mono">sha256 {{.H.Evidence.SHA256}}<br>WARC record {{.H.Evidence.WARCRecordID}}</td></tr>
</table>
<h3>Why it was flagged</h3>
<p>Highlighted in the listing text: <mark class="substance">substance names</mark>{{if .Contexts}}, <mark class="sales">sales context</mark> (price, quantity, shipping, payment, contact) and <mark class="exclude">contexts that lower the score</mark>{{end}}.</p>
<table><tr><th>what</th><th>kind</th><th>matched text</th><th>bytes</th></tr>
{{range .H.Substances}}<tr><td>{{.Name}}</td><td>{{.Class}}</td><td><mark class="substance">{{.Matched}}</mark></td><td>{{.Start}}–{{.End}}</td></tr>
{{end}}{{range .Contexts}}<tr><td>{{.Rule}}</td><td>{{.Kind}}</td><td><mark class="{{.Class}}">{{.Text}}</mark></td><td>{{.Start}}–{{.End}}</td></tr>
{{end}}</table>
{{if .Contexts}}<p class="note">Context terms are found again by the rule set in force when the package was made ({{.RuleVersion}}); the substance matches are those recorded when the hit was made.</p>{{end}}
<h3>Listing text</h3>
<div class="text">{{range .Segments}}{{if .Gap}}<span class="gap">[… {{.Text}} …]</span>{{else if .Mark}}<mark class="{{.Class}}" title="{{.Term}}">{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</div>
{{if .Description}}<h3>Description</h3><div class="text">{{.Description}}</div>{{end}}
{{if .OtherURL}}<p class="note">The evidence below was captured at {{.OtherURL}}, not at the listing's own URL: the listing was found as one entry on that page (a list, board or thread page), so that page is what shows the offer. The listing URL is where the entry links to.</p>{{end}}
{{if .Shot}}<h3>Screenshot</h3><p>Taken {{if .Shot.TakenAt.IsZero}}(time not recorded){{else}}{{time .Shot.TakenAt}}{{end}} of <span class="mono">{{if .Shot.URL}}{{.Shot.URL}}{{else}}{{.H.URL}}{{end}}</span>, rendered by headless Chromium.</p><p class="mono">{{.Shot.Path}} · sha256 {{.Shot.SHA256}}</p>{{if .Shot.DataURI}}<img class="shot" alt="screenshot of hit {{.H.ID}}" src="{{.Shot.DataURI}}">{{else}}<p class="note">Too large to embed; see the file in the package.</p>{{end}}{{end}}
<h3>Captures</h3>
{{range .Evidence}}<table>
<tr><th>Captured</th><td>{{time .FetchedAt}} · {{.Method}} {{.Status}}</td></tr>
<tr><th>URL</th><td class="mono">{{.URL}}</td></tr>
<tr><th>Via</th><td class="mono">{{if .Proxy}}proxy {{.Proxy}}{{else}}direct connection{{end}}{{if .RemoteAddr}}, server address {{.RemoteAddr}}{{end}}</td></tr>
<tr><th>Response sha256</th><td class="mono">{{.SHA256}}</td></tr>
<tr><th>WARC file</th><td class="mono">{{.File}} (response record at offset {{.Offset}})</td></tr>
<tr><th>{{if .RevisitOf}}Revisit record{{else}}Response record{{end}}</th><td class="mono">{{.ResponseID}}</td></tr>
{{if .RevisitOf}}<tr><th>Revisit of</th><td class="mono">{{.RevisitOf}} (fetched {{time .RevisitOfFetched}}): the payload was identical, so only this fetch's status line and headers were kept; the page below is the original's</td></tr>{{end}}
{{if .RequestID}}<tr><th>Request record</th><td class="mono">{{.RequestID}}</td></tr>{{end}}
<tr><th>Block digest</th><td class="mono">{{.BlockDigest}}</td></tr>
<tr><th>Payload digest</th><td class="mono">{{.PayloadDigest}}</td></tr>
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

// reportHead is the data of the "head" and "middle" templates.
type reportHead struct {
	CSP string
	M   *Manifest
	// Selection says in words which hits were packed.
	Selection string
	// Custody says what custody.log holds and why rows may be missing.
	Custody string
}

// reportHit is the data of the "index" and "hit" templates.
type reportHit struct {
	H     store.Hit
	Names []string // distinct substance names, in order
	// Decision is the latest review; nil when nobody reviewed the hit.
	Decision *store.ReviewRecord
	Reviews  []store.ReviewRecord
	// Contexts are the context terms the rule set in force finds in the
	// text (sales, exclusions); RuleVersion names that rule set.
	Contexts    []contextMatch
	RuleVersion string
	Segments    []segment
	Description string
	// OtherURL is the URL of the latest capture when it is not the
	// listing's own URL (an ad found on its list page).
	OtherURL string
	Shot     *reportShot
	Evidence []reportEvidence
}

// contextMatch is one context term found in a hit's text.
type contextMatch struct {
	Rule, Kind, Text string
	Class            string // CSS class: sales, exclude or support
	Start, End       int
}

type reportShot struct {
	Path, SHA256 string
	URL          string
	TakenAt      time.Time
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
	Class     string // CSS class of a mark: substance, sales, exclude or support
	Term      string
}

// span is a byte range of listing text to mark.
type span struct {
	Start, End int
	Class      string
	Term       string
}

// highlight splits text into segments, marking the substances' byte spans.
func highlight(text string, subs []store.Substance) []segment {
	spans := make([]span, 0, len(subs))
	for _, s := range subs {
		spans = append(spans, span{Start: s.Start, End: s.End, Class: "substance", Term: s.Name})
	}
	return highlightSpans(text, spans)
}

// highlightSpans splits text into segments, marking the spans. Spans that
// are out of range or overlap an earlier span are ignored (of two spans
// starting together the longer wins). Text longer than textFullBytes keeps
// textContext bytes around each mark and elides the rest.
func highlightSpans(text string, in []span) []segment {
	spans := make([]span, 0, len(in))
	for _, s := range in {
		if s.Start >= 0 && s.Start < s.End && s.End <= len(text) {
			spans = append(spans, s)
		}
	}
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[i].Start != spans[j].Start {
			return spans[i].Start < spans[j].Start
		}
		return spans[i].End > spans[j].End
	})
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
		segs = append(segs, segment{Text: text[s.Start:s.End], Mark: true, Class: s.Class, Term: s.Term})
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
