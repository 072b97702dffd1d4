package export

// A vendor package is a case package (Write) about sellers: the hits of
// their listings with their evidence as usual, and under vendor/ the
// dossier:
//
//	vendor/vendors.json     each vendor's profile (names, identifiers with
//	                        every sighting, listings, links, price history,
//	                        activity, analyst decisions)
//	vendor/identifiers.csv  one row per sighting: identifier, vendor,
//	                        listing, evidence record id and WARC record id,
//	                        field and byte span, text as written
//	vendor/links.json       the link graph: listings as nodes, edges with
//	                        their reason and evidence
//	vendor/report.html      the report in words: why these listings belong
//	                        to one seller
//	vendor/evidence/*.warc.gz
//	                        the captures behind every listing and sighting
//	                        that are not already in evidence/ (listings
//	                        that are not hits, earlier versions)

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"snoop/evidence"
	"snoop/store"
	"snoop/vendors"
)

// VendorDirs is where a vendor package keeps its dossier.
const VendorDir = "vendor/"

// VendorDossier builds the vendor/ files for profiles and returns them
// with the ids of the vendors' hits (for Options.Filter).
func VendorDossier(ctx context.Context, db *store.DB, profiles []vendors.Profile, caseName, toolVersion, actor string, now time.Time) ([]ExtraFile, []int64, error) {
	var hitIDs []int64
	inHits := map[int64]bool{} // evidence already packed with a hit
	for _, p := range profiles {
		for _, l := range p.Listings {
			if l.HitID == 0 {
				continue
			}
			hitIDs = append(hitIDs, l.HitID)
			evs, err := db.HitEvidence(ctx, l.HitID)
			if err != nil {
				return nil, nil, fmt.Errorf("hit %d evidence: %w", l.HitID, err)
			}
			for _, e := range evs {
				inHits[e.ID] = true
			}
		}
	}
	// Every capture the dossier refers to: sightings and each listing's
	// latest capture.
	var want []int64
	addWant := func(id int64) {
		if id != 0 && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	listingIDs := map[int64]bool{}
	for _, p := range profiles {
		for _, s := range p.Sightings {
			for _, x := range s.Seen {
				addWant(x.EvidenceID)
			}
		}
		for _, l := range p.Listings {
			listingIDs[l.ID] = true
		}
	}
	var ids []int64
	for id := range listingIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	vls, err := db.VendorListings(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range vls {
		addWant(l.LastEvidenceID)
	}
	slices.Sort(want)

	// Write the captures not in evidence/ to vendor/evidence/.
	bufs := map[string]*bytes.Buffer{}
	var order []string
	ww := evidence.NewWriter(evidence.WriterOptions{
		Prefix: "vendor",
		Create: func(name string) (io.WriteCloser, error) {
			b := &bytes.Buffer{}
			bufs[name] = b
			order = append(order, name)
			return nopCloser{b}, nil
		},
		Info: evidence.Info{Software: "snoop/" + toolVersion, Case: caseName, Operator: actor,
			Description: "captures behind the vendor dossier of snoop case " + caseName},
		Now: func() time.Time { return now },
	})
	records := map[int64]string{} // evidence id -> "file#record id"
	written := map[int64]string{}
	var write func(id int64) (string, error)
	write = func(id int64) (string, error) {
		if r, ok := written[id]; ok {
			return r, nil
		}
		ev, err := db.Evidence(ctx, id)
		if err != nil {
			return "", fmt.Errorf("evidence %d: %w", id, err)
		}
		f := evidence.Fetch{URL: ev.URL, Method: ev.Method, FetchedAt: ev.FetchedAt, RequestBytes: ev.RequestBytes,
			ResponseBytes: ev.ResponseBytes, RequestRecordID: ev.RequestRecordID, ResponseRecordID: ev.WARCRecordID,
			RemoteAddr: ev.RemoteAddr, Proxy: ev.Proxy, TLS: ev.TLS, Truncated: ev.Truncated,
			Extra: map[string]any{"evidence_id": ev.ID, "status": ev.Status, "case": caseName}}
		if ev.Revisit {
			origRef, err := write(ev.RefersTo)
			if err != nil {
				return "", err
			}
			orig, err := db.Evidence(ctx, ev.RefersTo)
			if err != nil {
				return "", err
			}
			_, origID, _ := strings.Cut(origRef, "#")
			f.Revisit = &evidence.Revisit{RefersTo: origID, TargetURI: orig.URL, Date: orig.FetchedAt, PayloadDigest: "sha256:" + ev.PayloadSHA256}
			if ev.Status == http.StatusNotModified {
				f.Revisit.Profile = evidence.ProfileServerNotModified
			}
		}
		refs, err := ww.WriteFetch(f)
		if err != nil {
			return "", fmt.Errorf("evidence %d: %w", id, err)
		}
		for _, r := range refs {
			if r.Type == "response" || r.Type == "revisit" {
				written[id] = VendorDir + "evidence/" + r.File + "#" + r.ID
			}
		}
		return written[id], nil
	}
	for _, id := range want {
		if inHits[id] {
			ev, err := db.Evidence(ctx, id)
			if err != nil {
				return nil, nil, fmt.Errorf("evidence %d: %w", id, err)
			}
			records[id] = EvidenceDir + "#" + ev.WARCRecordID
			continue
		}
		r, err := write(id)
		if err != nil {
			return nil, nil, err
		}
		records[id] = r
	}
	if err := ww.Close(); err != nil {
		return nil, nil, err
	}
	var files []ExtraFile
	for _, name := range order {
		files = append(files, ExtraFile{Name: VendorDir + "evidence/" + name, Data: bufs[name].Bytes()})
	}

	// vendors.json
	vj, err := json.MarshalIndent(profiles, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	files = append(files, ExtraFile{Name: VendorDir + "vendors.json", Data: append(vj, '\n')})

	// identifiers.csv
	var cb bytes.Buffer
	cw := csv.NewWriter(&cb)
	cw.Write([]string{"vendor", "kind", "value", "listing", "marketplace", "url", "evidence_id", "warc_record", "source", "start", "end", "as_written"})
	for _, p := range profiles {
		where := map[int64]vendors.Listing{}
		for _, l := range p.Listings {
			where[l.ID] = l
		}
		for _, s := range p.Sightings {
			for _, x := range s.Seen {
				l := where[x.ListingID]
				cw.Write([]string{fmt.Sprint(p.ID), s.Kind, cell(s.Value), fmt.Sprint(x.ListingID), l.Marketplace, cell(l.URL),
					fmt.Sprint(x.EvidenceID), records[x.EvidenceID], x.Source, fmt.Sprint(x.Start), fmt.Sprint(x.End), cell(x.Raw)})
			}
		}
	}
	cw.Flush()
	files = append(files, ExtraFile{Name: VendorDir + "identifiers.csv", Data: cb.Bytes()})

	// links.json
	graph := linkGraph(profiles, records)
	gj, err := json.MarshalIndent(graph, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	files = append(files, ExtraFile{Name: VendorDir + "links.json", Data: append(gj, '\n')})

	// report.html
	var rb bytes.Buffer
	if err := vendorReportTmpl.Execute(&rb, vendorReport{Title: "Vendor dossier: " + caseName, Case: caseName, Created: now, Profiles: profiles, Records: records}); err != nil {
		return nil, nil, fmt.Errorf("vendor report: %w", err)
	}
	files = append(files, ExtraFile{Name: VendorDir + "report.html", Data: rb.Bytes()})
	slices.Sort(hitIDs)
	return files, hitIDs, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// cell keeps a spreadsheet from reading a cell as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// graphJSON is vendor/links.json.
type graphJSON struct {
	Nodes []graphNode `json:"nodes"`
	Edges []graphEdge `json:"edges"`
}

type graphNode struct {
	Listing     int64  `json:"listing"`
	Vendor      int64  `json:"vendor"`
	Marketplace string `json:"marketplace"`
	URL         string `json:"url"`
	Name        string `json:"name"`
	Hit         int64  `json:"hit,omitempty"`
}

type graphEdge struct {
	Source     int64               `json:"source"`
	Target     int64               `json:"target"`
	Reason     string              `json:"reason"`
	Identifier *vendors.Identifier `json:"identifier,omitempty"`
	Name       string              `json:"name,omitempty"`
	Decision   int64               `json:"decision,omitempty"`
	Evidence   []graphEvidenceRef  `json:"evidence,omitempty"`
	Suggestion *vendors.Suggestion `json:"suggestion,omitempty"`
}

type graphEvidenceRef struct {
	ID     int64  `json:"id"`
	Record string `json:"record"`
}

func linkGraph(profiles []vendors.Profile, records map[int64]string) graphJSON {
	g := graphJSON{Nodes: []graphNode{}, Edges: []graphEdge{}}
	for _, p := range profiles {
		for _, l := range p.Listings {
			g.Nodes = append(g.Nodes, graphNode{Listing: l.ID, Vendor: p.ID, Marketplace: l.Marketplace, URL: l.URL, Name: l.Name, Hit: l.HitID})
		}
		for _, k := range p.Links {
			var refs []graphEvidenceRef
			for _, e := range k.Evidence {
				refs = append(refs, graphEvidenceRef{ID: e, Record: records[e]})
			}
			for _, t := range k.Listings[1:] {
				g.Edges = append(g.Edges, graphEdge{Source: k.Listings[0], Target: t, Reason: k.Reason, Identifier: k.Identifier,
					Name: k.Name, Decision: k.Decision, Evidence: refs})
			}
		}
	}
	return g
}

type vendorReport struct {
	Title    string
	Case     string
	Created  time.Time
	Profiles []vendors.Profile
	Records  map[int64]string
}

var vendorReportTmpl = template.Must(template.New("vendor").Funcs(template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04Z")
	},
	"join":  func(ss []string) string { return strings.Join(ss, ", ") },
	"words": vendorInWords,
	"rec":   func(m map[int64]string, id int64) string { return m[id] },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}code{font-size:12px;word-break:break-all}.muted{color:#666}</style>
</head><body>
<h1>{{.Title}}</h1>
<p class="muted">Written {{time .Created}} by snoop. Evidence references name the evidence record and the WARC record holding it (<code>evidence/</code> for hits' captures, <code>vendor/evidence/</code> for the rest). Every file is listed with its SHA-256 in manifest.json and SHA256SUMS.</p>
{{range .Profiles}}{{$p := .}}
<section id="vendor-{{.ID}}">
<h2>Vendor {{.ID}}: {{join .Names}}</h2>
<p><strong>Status:</strong> {{.Status}}{{with .Note}} — {{.}}{{end}}. <strong>Marketplaces:</strong> {{join .Marketplaces}}. <strong>Substances:</strong> {{join .Substances}}. <strong>Active:</strong> {{time .FirstSeen}} to {{time .LastSeen}}; {{.Hits}} hits among {{len .Listings}} listings.</p>
<h3>Why these listings belong to one seller</h3>
<p>{{words $p}}</p>
<ul>{{range .Links}}<li>{{.Text}}{{if .Evidence}} Evidence records: {{range .Evidence}}{{.}} (<code>{{rec $.Records .}}</code>) {{end}}{{end}}</li>{{end}}</ul>
{{with .Suggestions}}<p>Same name elsewhere, <em>not</em> linked (a name alone is no evidence across marketplaces):</p><ul>{{range .}}<li>vendor {{.VendorID}}, “{{.Name}}” on {{.Marketplace}}</li>{{end}}</ul>{{end}}
{{with .Common}}<p>Seen on these listings but shared by many sellers of the marketplace, so not taken as evidence:</p><ul>{{range .}}<li><code>{{.LinkKey}}</code> on {{.Market}} ({{.Sellers}} sellers)</li>{{end}}</ul>{{end}}
<h3>Identifiers</h3>
<table><tr><th>Kind</th><th>Value</th><th>Seen</th></tr>
{{range .Sightings}}<tr><td>{{.Kind}}</td><td><code>{{.Value}}</code></td><td>{{range .Seen}}listing {{.ListingID}}, evidence {{.EvidenceID}} (<code>{{rec $.Records .EvidenceID}}</code>), {{.Source}} bytes {{.Start}}–{{.End}}: <code>{{.Raw}}</code><br>{{end}}</td></tr>{{end}}
</table>
<h3>Listings</h3>
<table><tr><th>ID</th><th>Marketplace</th><th>Name</th><th>Title</th><th>Price</th><th>Hit</th><th>Substances</th><th>State</th><th>URL</th></tr>
{{range .Listings}}<tr><td>{{.ID}}</td><td>{{.Marketplace}}</td><td>{{.Name}}</td><td>{{.Title}}</td><td>{{.Price}}</td><td>{{if .HitID}}{{.HitID}} ({{.HitStatus}}){{end}}</td><td>{{join .Substances}}</td><td>{{if .Gone}}gone {{time .GoneAt}}{{else}}live{{end}}</td><td><code>{{.URL}}</code></td></tr>{{end}}
</table>
{{with .Prices}}<h3>Price history</h3><table><tr><th>Seen</th><th>Listing</th><th>Price</th><th>Evidence</th></tr>{{range .}}<tr><td>{{time .SeenAt}}</td><td>{{.ListingID}}</td><td>{{.Price}}</td><td>{{.EvidenceID}}</td></tr>{{end}}</table>{{end}}
<h3>Activity</h3><ul>{{range .Timeline}}<li>{{time .At}} {{.Kind}}: {{.Text}}</li>{{end}}</ul>
{{with .Decisions}}<h3>Analyst decisions</h3><ul>{{range .}}<li>{{.Action}} by {{.Actor}} at {{time .At}}{{with .Note}}: {{.}}{{end}}</li>{{end}}</ul>{{end}}
</section>{{end}}
</body></html>
`))

// vendorInWords summarises why a vendor's listings are one seller.
func vendorInWords(p vendors.Profile) string {
	if len(p.Listings) == 1 {
		return fmt.Sprintf("This vendor is a single listing on %s.", strings.Join(p.Marketplaces, ", "))
	}
	var byID, byName, byAnalyst int
	var kinds []string
	for _, l := range p.Links {
		switch l.Reason {
		case "identifier":
			byID++
			if k := l.Identifier.Kind; !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		case "name":
			byName++
		case "analyst":
			byAnalyst++
		}
	}
	var parts []string
	if byID > 0 {
		parts = append(parts, fmt.Sprintf("%d shared identifiers (%s) that each appear on two or more of the listings and that the marketplaces' other sellers do not show", byID, strings.Join(kinds, ", ")))
	}
	if byName > 0 {
		parts = append(parts, fmt.Sprintf("%d seller names each used for several listings on one marketplace", byName))
	}
	if byAnalyst > 0 {
		parts = append(parts, fmt.Sprintf("%d analyst decisions to merge", byAnalyst))
	}
	s := fmt.Sprintf("The %d listings on %d marketplaces (%s) are tied together by %s.", len(p.Listings), len(p.Marketplaces),
		strings.Join(p.Marketplaces, ", "), strings.Join(parts, ", and by "))
	if len(p.Marketplaces) > 1 {
		s += " The links between marketplaces rest on identifiers, never on a name alone."
	}
	return s
}

// WriteVendorReport writes profiles as the HTML vendor report titled
// title (the weekly intelligence report; the dossier's report.html).
// Evidence references name evidence record ids.
func WriteVendorReport(w io.Writer, title string, now time.Time, profiles []vendors.Profile) error {
	records := map[int64]string{}
	for _, p := range profiles {
		for _, s := range p.Sightings {
			for _, x := range s.Seen {
				records[x.EvidenceID] = fmt.Sprintf("evidence %d", x.EvidenceID)
			}
		}
	}
	return vendorReportTmpl.Execute(w, vendorReport{Title: title, Case: title, Created: now, Profiles: profiles, Records: records})
}
