package export

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	iawarc "github.com/internetarchive/gowarc"
	"snoop/store"
)

func TestWriteRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	sweeps := seed(t, db, seedOptions{pages: 6, bodyBytes: 3000, secondSweep: true, decoyNonHits: true})
	if err := db.Review(ctx, 1, store.StatusConfirmed, "checked by hand", "analyst-a", t0.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	priv, pub := testKey(t)
	out := filepath.Join(t.TempDir(), "case.zip")
	sum, err := Write(ctx, db, out, Options{Filter: anyStatus,
		Case: "op-nightjar", SignKey: priv, ToolVersion: "0.9.0", RuleVersion: testRules,
		Actor: "analyst-a", Now: fixedNow(), MaxWARCSize: 8 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Hits != 6 || sum.Evidence != 7 || sum.Path != out {
		t.Errorf("summary = %+v, want 6 hits with 7 evidence records", sum)
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".snoop-export-*"))
	if len(leftovers) > 0 {
		t.Errorf("spool directories left behind: %v", leftovers)
	}

	files, order := zipFiles(t, out)
	t.Run("layout", func(t *testing.T) {
		want := []string{HitsJSONLFile, HitsCSVFile, "evidence/snoop-00001.warc.gz", "evidence/snoop-00002.warc.gz", ReportFile, CustodyFile, ManifestFile, SignatureFile, SumsFile}
		for _, w := range want {
			if _, ok := files[w]; !ok {
				t.Errorf("package lacks %s; has %v", w, order)
			}
		}
		if order[len(order)-1] != SumsFile {
			t.Errorf("last entry %s, want SHA256SUMS", order[len(order)-1])
		}
	})

	t.Run("manifest", func(t *testing.T) {
		var m Manifest
		if err := json.Unmarshal(files[ManifestFile], &m); err != nil {
			t.Fatal(err)
		}
		if m.Case != "op-nightjar" || m.ToolVersion != "0.9.0" || m.RuleVersion != testRules || !m.CreatedAt.Equal(fixedNow()()) {
			t.Errorf("manifest header: %+v", m)
		}
		if len(m.Sweeps) != 2 || m.Sweeps[0].ID != sweeps[0] || m.Sweeps[1].ID != sweeps[1] || m.Sweeps[0].Status != "completed" {
			t.Errorf("sweeps = %+v", m.Sweeps)
		}
		if m.Counts.Hits != 6 || m.Counts.Evidence != 7 || m.Counts.HitsByStatus["confirmed"] != 1 || m.Counts.Substances["isotonitazene"] != 6 {
			t.Errorf("counts = %+v", m.Counts)
		}
		if m.Counts.WARCRecords != m.Counts.WARCFiles+7*3 {
			t.Errorf("warc records %d in %d files, want 21 + one warcinfo per file", m.Counts.WARCRecords, m.Counts.WARCFiles)
		}
		if m.Signature == nil || m.Signature.Fingerprint != KeyFingerprint(pub) {
			t.Errorf("signature info = %+v", m.Signature)
		}
		for _, e := range m.Files {
			if int64(len(files[e.Path])) != e.Size {
				t.Errorf("%s: size %d, manifest says %d", e.Path, len(files[e.Path]), e.Size)
			}
		}
	})

	t.Run("hits files", func(t *testing.T) {
		lines := strings.Split(strings.TrimSpace(string(files[HitsJSONLFile])), "\n")
		if len(lines) != 6 {
			t.Fatalf("hits.jsonl has %d lines, want 6", len(lines))
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "marketplace", "url", "title", "price", "vendor", "score", "status", "substances", "rule_version", "sweep_id", "first_seen", "last_seen", "evidence"} {
			if _, ok := h[k]; !ok {
				t.Errorf("hit lacks %q: %s", k, lines[0])
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(files[HitsCSVFile])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
			t.Errorf("csv: %d rows, header %v", len(rows), rows[0])
		}
	})

	t.Run("custody", func(t *testing.T) {
		log := string(files[CustodyFile])
		for _, want := range []string{`"action":"sweep.begin"`, `"action":"sweep.finish"`, `"action":"review"`, `"note":"checked by hand"`} {
			if !strings.Contains(log, want) {
				t.Errorf("custody.log lacks %s:\n%s", want, log)
			}
		}
		entries, err := db.AuditEntries(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		last := entries[len(entries)-1]
		if last.Action != ActionExport || last.Actor != "analyst-a" || !strings.Contains(string(last.Details), sum.ManifestSHA256) {
			t.Errorf("last audit row = %s %s %s, want the export with the manifest hash", last.Actor, last.Action, last.Details)
		}
		if err := db.VerifyAudit(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("sha256sum -c", func(t *testing.T) {
		bin, err := exec.LookPath("sha256sum")
		if err != nil {
			t.Skip("sha256sum not installed")
		}
		dir := t.TempDir()
		if unzipBin, err := exec.LookPath("unzip"); err == nil { // the tool a recipient would use
			if outb, err := exec.Command(unzipBin, "-q", out, "-d", dir).CombinedOutput(); err != nil {
				t.Fatalf("unzip: %v\n%s", err, outb)
			}
		} else {
			dir = unzip(t, out)
		}
		cmd := exec.Command(bin, "-c", "--strict", SumsFile)
		cmd.Dir = dir
		outb, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, outb)
		}
		if n := strings.Count(string(outb), ": OK"); n != len(order)-1 {
			t.Errorf("sha256sum checked %d files, want %d:\n%s", n, len(order)-1, outb)
		}
	})

	t.Run("verify", func(t *testing.T) {
		for _, p := range []string{out, unzip(t, out)} {
			rep, err := Verify(p, pub)
			if err != nil {
				t.Fatalf("Verify(%s): %v\n%v", p, err, rep.Problems)
			}
			if !rep.SignatureOK || rep.Hits != 6 || rep.WARCRecords == 0 || rep.Files != len(order) {
				t.Errorf("report = %+v", rep)
			}
			// Without a key the signature is checked against the manifest's key.
			rep, err = Verify(p, nil)
			if err != nil || !rep.SignatureOK || rep.SignerKnown || !strings.Contains(rep.String(), "signed by an unknown key") {
				t.Errorf("Verify without key: %v %+v", err, rep)
			}
		}
	})

	t.Run("warc read back by internetarchive/gowarc", func(t *testing.T) {
		stored := map[string][]byte{}
		err := db.HitsEach(ctx, store.HitFilter{}, func(h store.Hit) error {
			evs, err := db.HitEvidence(ctx, h.ID)
			for _, e := range evs {
				stored[e.WARCRecordID] = e.ResponseBytes
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for name, data := range files {
			if !strings.HasPrefix(name, EvidenceDir) {
				continue
			}
			r, err := iawarc.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := r.ReadRecord()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				block, _ := io.ReadAll(rec.Content)
				rec.Content.Close()
				if got, want := rec.Header.Get("WARC-Block-Digest"), "sha256:"+sha256hex(block); got != want {
					t.Errorf("%s: block digest %s, content %s", name, got, want)
				}
				if rec.Header.Get("WARC-Type") != "response" {
					continue
				}
				id := strings.Trim(rec.Header.Get("WARC-Record-ID"), "<>")
				if !bytes.Equal(block, stored[id]) {
					t.Errorf("%s: response %s differs from the stored bytes", name, id)
				}
				_, payload, _ := bytes.Cut(block, []byte("\r\n\r\n"))
				if got, want := rec.Header.Get("WARC-Payload-Digest"), "sha256:"+sha256hex(payload); got != want {
					t.Errorf("%s: payload digest %s, content %s", name, got, want)
				}
				found++
			}
		}
		if found != len(stored) || found != 7 {
			t.Errorf("read %d response records, stored %d", found, len(stored))
		}
	})
}

func TestWriteFilters(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2, perPage: 3})
	out := filepath.Join(t.TempDir(), "one.zip")
	sum, err := Write(ctx, db, out, Options{Filter: store.HitFilter{Status: StatusAny, IDs: []int64{2, 3}}, Now: fixedNow(), ToolVersion: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Hits != 2 || sum.Evidence != 1 {
		t.Errorf("summary %+v, want 2 hits sharing 1 evidence record", sum)
	}
	files, _ := zipFiles(t, out)
	var m Manifest
	json.Unmarshal(files[ManifestFile], &m)
	if m.Case != "snoop-case-20260205T100000Z" || len(m.Filter.IDs) != 2 || m.Signature != nil {
		t.Errorf("manifest: case %q filter %+v signature %v", m.Case, m.Filter, m.Signature)
	}
	if _, ok := files[SignatureFile]; ok {
		t.Error("unsigned package has a signature file")
	}
	if rep, err := Verify(out, nil); err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	// Hits of the other page and its evidence are not in the package.
	if strings.Contains(string(files[HitsJSONLFile]), "product/1") {
		t.Error("hits.jsonl holds a hit that was not asked for")
	}
}

func TestWriteCancelled(t *testing.T) {
	db := openDB(t)
	seed(t, db, seedOptions{pages: 3})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "x.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 3, bodyBytes: 500})
	priv, pub := testKey(t)
	otherPriv, otherPub := testKey(t)
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Case: "c", SignKey: priv, Now: fixedNow()}); err != nil {
		t.Fatal(err)
	}
	orig, order := zipFiles(t, out)
	warcName := "evidence/snoop-00001.warc.gz"

	clone := func() map[string][]byte {
		m := map[string][]byte{}
		for k, v := range orig {
			m[k] = bytes.Clone(v)
		}
		return m
	}
	tests := []struct {
		name   string
		edit   func(files map[string][]byte) []string // returns the order
		pub    ed25519.PublicKey
		want   []string
		rawZip func(data []byte) []byte
	}{
		{name: "intact", edit: func(map[string][]byte) []string { return order }, pub: pub},
		{name: "flipped byte in hits.csv", edit: func(f map[string][]byte) []string {
			f[HitsCSVFile][40] ^= 1
			return order
		}, pub: pub, want: []string{"hits.csv: changed: sha256 differs from SHA256SUMS", "hits.csv: changed: sha256 differs from manifest.json"}},
		{name: "flipped byte in report.html", edit: func(f map[string][]byte) []string {
			f[ReportFile][100] ^= 1
			return order
		}, pub: pub, want: []string{"report.html: changed"}},
		{name: "flipped byte in a WARC", edit: func(f map[string][]byte) []string {
			f[warcName][len(f[warcName])/2] ^= 1
			return order
		}, pub: pub, want: []string{warcName + ": changed", warcName + ": warc"}},
		{name: "missing file", edit: func(f map[string][]byte) []string {
			delete(f, CustodyFile)
			return order
		}, pub: pub, want: []string{"custody.log: missing: listed in SHA256SUMS and manifest.json (expected sha256 " + sha256hex(orig[CustodyFile])}},
		{name: "extra file", edit: func(f map[string][]byte) []string {
			f["evidence/planted.warc.gz"] = []byte("x")
			return append(slices.Clone(order), "evidence/planted.warc.gz")
		}, pub: pub, want: []string{"evidence/planted.warc.gz: extra: not listed in SHA256SUMS", "evidence/planted.warc.gz: extra: not listed in manifest.json"}},
		{name: "changed file with SHA256SUMS rewritten", edit: func(f map[string][]byte) []string {
			f[HitsJSONLFile] = append(f[HitsJSONLFile], []byte("{}\n")...)
			f[SumsFile] = []byte(strings.Replace(string(f[SumsFile]), sha256hex(orig[HitsJSONLFile]), sha256hex(f[HitsJSONLFile]), 1))
			return order
		}, pub: pub, want: []string{"hits.jsonl: changed: sha256 differs from manifest.json"}},
		{name: "manifest edited and re-hashed", edit: func(f map[string][]byte) []string {
			f[ManifestFile] = bytes.Replace(f[ManifestFile], []byte(`"case": "c"`), []byte(`"case": "d"`), 1)
			f[SumsFile] = []byte(strings.Replace(string(f[SumsFile]), sha256hex(orig[ManifestFile]), sha256hex(f[ManifestFile]), 1))
			return order
		}, pub: pub, want: []string{"signature: signature: does not verify over manifest.json"}},
		{name: "forged signature", edit: func(f map[string][]byte) []string {
			sig := ed25519.Sign(otherPriv, f[ManifestFile])
			f[SignatureFile] = []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
			f[SumsFile] = []byte(strings.Replace(string(f[SumsFile]), sha256hex(orig[SignatureFile]), sha256hex(f[SignatureFile]), 1))
			return order
		}, pub: pub, want: []string{"signature: signature: does not verify"}},
		{name: "wrong public key", edit: func(map[string][]byte) []string { return order }, pub: otherPub,
			want: []string{"does not verify over manifest.json with key " + KeyFingerprint(otherPub)}},
		{name: "signature removed", edit: func(f map[string][]byte) []string {
			delete(f, SignatureFile)
			return order
		}, pub: pub, want: []string{"signature: signature: package is not signed, but a public key was given", "signature: missing: listed in SHA256SUMS"}},
		{name: "custody row edited", edit: func(f map[string][]byte) []string {
			f[CustodyFile] = bytes.Replace(f[CustodyFile], []byte(`"status":"completed"`), []byte(`"status":"failed"`), 1)
			return order
		}, pub: pub, want: []string{"custody.log: custody: line 2 (audit row 2): hash does not match the row"}},
		{name: "byte flipped in the zip itself", edit: func(map[string][]byte) []string { return nil }, pub: pub,
			rawZip: func(data []byte) []byte {
				i := bytes.Index(data, []byte("WARC-Block-Digest"))
				if i < 0 {
					i = len(data) / 3
				}
				data[i] ^= 0x20
				return data
			}, want: []string{"FAIL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p string
			if tt.rawZip != nil {
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				p = filepath.Join(t.TempDir(), "raw.zip")
				os.WriteFile(p, tt.rawZip(data), 0o644)
			} else {
				f := clone()
				p = rezip(t, f, tt.edit(f))
			}
			rep, err := Verify(p, tt.pub)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("intact package failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("tampering not detected")
			}
			if !errors.Is(err, ErrInvalid) && tt.rawZip == nil {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			var text bytes.Buffer
			if rep != nil {
				rep.WriteTo(&text)
			} else {
				text.WriteString("FAIL " + err.Error())
			}
			for _, w := range tt.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, text.String())
				}
			}
		})
	}
}

func TestReportIsInert(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2, hostile: true})
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Case: `case <b>bold</b>`, Now: fixedNow()}); err != nil {
		t.Fatal(err)
	}
	files, _ := zipFiles(t, out)
	report := string(files[ReportFile])
	for _, bad := range []string{"<script", "<img src=x", "<b>bold", `src="http`, `href="http`, "<iframe", "<link", "@import"} {
		if strings.Contains(strings.ToLower(report), strings.ToLower(bad)) {
			i := strings.Index(strings.ToLower(report), strings.ToLower(bad))
			t.Errorf("report.html contains %q: …%s…", bad, report[max(0, i-80):min(len(report), i+80)])
		}
	}
	for _, want := range []string{
		`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:">`,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`&lt;img src=x onerror=alert(2)&gt;`,
		`<mark class="substance" title="isotonitazene">is0tonitazene</mark>`,
		"case &lt;b&gt;bold&lt;/b&gt;",
		"Page source",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// The hostile markup is in the evidence byte for byte.
	found := false
	for name, data := range files {
		if strings.HasPrefix(name, EvidenceDir) {
			r, _ := iawarc.NewReader(bytes.NewReader(data))
			for {
				rec, err := r.ReadRecord()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(rec.Content)
				rec.Content.Close()
				found = found || bytes.Contains(b, []byte(hostile))
			}
		}
	}
	if !found {
		t.Error("hostile markup not kept verbatim in the WARC")
	}
}

func TestHighlight(t *testing.T) {
	long := strings.Repeat("a", 20000) + "HIT" + strings.Repeat("b", 20000)
	tests := []struct {
		name string
		text string
		subs []store.Substance
		want string
	}{
		{"one", "buy fent now", []store.Substance{{Name: "fentanyl", Start: 4, End: 8}}, "buy |[fent]| now"},
		{"overlap and bad spans", "abcdef", []store.Substance{{Start: 1, End: 3}, {Start: 2, End: 4}, {Start: 5, End: 99}, {Start: -1, End: 2}}, "a|[bc]|def"},
		{"unsorted", "x1y2z", []store.Substance{{Start: 3, End: 4}, {Start: 1, End: 2}}, "x|[1]|y|[2]|z"},
		{"long text elided", long, []store.Substance{{Start: 20000, End: 20003}}, "{19600}|" + strings.Repeat("a", 400) + "|[HIT]|" + strings.Repeat("b", 400) + "|{19600}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parts []string
			for _, s := range highlight(tt.text, tt.subs) {
				switch {
				case s.Gap:
					parts = append(parts, "{"+strings.Fields(s.Text)[0]+"}")
				case s.Mark:
					parts = append(parts, "["+s.Text+"]")
				default:
					parts = append(parts, s.Text)
				}
			}
			if got := strings.Join(parts, "|"); got != tt.want {
				if len(got) > 200 {
					got = got[:200] + "…"
				}
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteCSVAndJSONL(t *testing.T) {
	hits := []store.Hit{{
		ID: 17, Marketplace: "example-shop", URL: "https://shop.example/product/9", Title: "=HYPERLINK(\"x\")", Price: "-5", Vendor: "v,1",
		Score: 0.93, Status: "new", RuleVersion: "sha256:ab", SweepID: 3,
		Substances: []store.Substance{{Name: "isotonitazene", Class: "nitazene", Matched: "is0tonitazene"}, {Name: "fentanyl", Class: "fentanyl-analogue", Matched: "f3ntanyl"}},
		FirstSeen:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), LastSeen: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
		Evidence: store.HitEvidence{SHA256: "abc", WARCRecordID: "urn:uuid:1"},
	}}
	var c bytes.Buffer
	if err := WriteCSV(&c, hits); err != nil {
		t.Fatal(err)
	}
	want := "id,marketplace,url,title,price,vendor,score,status,substances,classes,matched,rule_version,sweep_id,first_seen,last_seen,evidence_sha256,warc_record_id\n" +
		`17,example-shop,https://shop.example/product/9,"'=HYPERLINK(""x"")",'-5,"v,1",0.93,new,isotonitazene;fentanyl,nitazene;fentanyl-analogue,is0tonitazene;f3ntanyl,sha256:ab,3,2026-01-02T02:04:05Z,2026-01-03T00:00:00Z,abc,urn:uuid:1` + "\n"
	if c.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", c.String(), want)
	}
	var j bytes.Buffer
	if err := WriteJSONL(&j, hits); err != nil {
		t.Fatal(err)
	}
	wantJ := `{"id":17,"marketplace":"example-shop","url":"https://shop.example/product/9","title":"=HYPERLINK(\"x\")","price":"-5","vendor":"v,1","score":0.93,"status":"new","substances":[{"name":"isotonitazene","class":"nitazene","matched":"is0tonitazene","start":0,"end":0},{"name":"fentanyl","class":"fentanyl-analogue","matched":"f3ntanyl","start":0,"end":0}],"rule_version":"sha256:ab","sweep_id":3,"first_seen":"2026-01-02T02:04:05Z","last_seen":"2026-01-03T00:00:00Z","evidence":{"sha256":"abc","warc_record_id":"urn:uuid:1"}}` + "\n"
	if j.String() != wantJ {
		t.Errorf("jsonl:\n%s\nwant:\n%s", j.String(), wantJ)
	}
	if n := strings.Count(j.String(), "\n"); n != 1 {
		t.Errorf("%d lines, want 1", n)
	}
}

func TestGenerateKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "KEY")
	if err := GenerateKey(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("KEY mode %v, want 0600", st.Mode().Perm())
	}
	priv, err := LoadPrivateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Error("KEY.pub is not KEY's public key")
	}
	if err := GenerateKey(p); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	// Raw base64 keys are accepted too.
	raw := filepath.Join(dir, "raw.pub")
	os.WriteFile(raw, []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644)
	if got, err := LoadPublicKey(raw); err != nil || !got.Equal(pub) {
		t.Errorf("base64 public key: %v", err)
	}
	if _, err := LoadPublicKey(p); err == nil {
		t.Error("a private key loaded as a public key")
	}
	if bin, err := exec.LookPath("openssl"); err == nil {
		if outb, err := exec.Command(bin, "pkey", "-in", p, "-noout").CombinedOutput(); err != nil {
			t.Errorf("openssl cannot read KEY: %v %s", err, outb)
		}
	}
}

func TestWriteNoHits(t *testing.T) {
	db := openDB(t)
	out := filepath.Join(t.TempDir(), "empty.zip")
	_, err := Write(context.Background(), db, out, Options{Filter: anyStatus, Case: "empty", Now: fixedNow()})
	if !errors.Is(err, ErrEmptySelection) || !strings.Contains(err.Error(), "hits of every status") {
		t.Fatalf("err = %v, want ErrEmptySelection naming the selection", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a package was written for an empty selection: %v", err)
	}
}
