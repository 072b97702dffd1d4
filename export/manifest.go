package export

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Names of the files at the root of a case package.
const (
	ManifestFile  = "manifest.json"
	SumsFile      = "SHA256SUMS"
	SignatureFile = "signature"
	TimestampFile = "manifest.json.tsr"
	HitsJSONLFile = "hits.jsonl"
	HitsCSVFile   = "hits.csv"
	ReportFile    = "report.html"
	ReportPDFFile = "report.pdf"
	CustodyFile   = "custody.log"
	EvidenceDir   = "evidence/"
	ScreenshotDir = "screenshots/"
)

// FormatVersion names the package layout in manifest.json.
const FormatVersion = "snoop-case/1"

// Manifest is manifest.json.
type Manifest struct {
	Format      string    `json:"format"`
	Case        string    `json:"case"`
	CreatedAt   time.Time `json:"created_at"`
	Tool        string    `json:"tool"`
	ToolVersion string    `json:"tool_version"`
	// RuleVersion is the rule set in force when the package was made;
	// RuleVersions are those that produced the exported hits.
	RuleVersion  string         `json:"rule_version"`
	RuleVersions []string       `json:"rule_versions"`
	CreatedBy    string         `json:"created_by,omitempty"`
	Filter       ManifestFilter `json:"filter"`
	Sweeps       []SweepInfo    `json:"sweeps"`
	Counts       Counts         `json:"counts"`
	// Custody describes custody.log; nil in packages made before it was
	// recorded.
	Custody *CustodyInfo `json:"custody,omitempty"`
	// Signature says how the package is signed; nil when unsigned.
	Signature *SignatureInfo `json:"signature,omitempty"`
	// Files lists every file of the package except manifest.json,
	// SHA256SUMS, signature and manifest.json.tsr, which are derived from
	// this manifest.
	Files []FileEntry `json:"files"`
}

// ManifestFilter records which hits were asked for.
type ManifestFilter struct {
	IDs       []int64    `json:"ids,omitempty"`
	SweepID   int64      `json:"sweep_id,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	Market    string     `json:"market,omitempty"`
	Substance string     `json:"substance,omitempty"`
	Status    string     `json:"status,omitempty"`
}

// SweepInfo describes one sweep that detected an exported hit.
type SweepInfo struct {
	ID          int64      `json:"id"`
	Markets     []string   `json:"markets"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	RuleVersion string     `json:"rule_version"`
}

// Counts summarises the package.
type Counts struct {
	Hits          int            `json:"hits"`
	HitsByStatus  map[string]int `json:"hits_by_status"`
	Substances    map[string]int `json:"hits_by_substance"`
	Evidence      int            `json:"evidence"`
	WARCFiles     int            `json:"warc_files"`
	WARCRecords   int            `json:"warc_records"`
	Screenshots   int            `json:"screenshots"`
	CustodyEvents int            `json:"custody_events"`
}

// SignatureInfo describes the signature file.
type SignatureInfo struct {
	Algorithm string `json:"algorithm"` // "ed25519"
	File      string `json:"file"`      // "signature"
	Encoding  string `json:"encoding"`  // "base64": the file holds base64 (standard, padded) of the 64-byte signature and a newline
	Signed    string `json:"signed"`    // "manifest.json": the exact bytes signed
	// PublicKey is the base64 of the raw 32-byte public key, so a reader
	// knows which key to check against; trust comes from a key obtained
	// separately (snoop verify --pub-key).
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"` // sha256 of the raw public key
}

// FileEntry is one file of the package.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ReadManifest returns the manifest.json of the case package (a zip file)
// at path, read up to MaxManifestBytes. It checks nothing else: use Verify
// to check a package.
func ReadManifest(path string) (*Manifest, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest of %s: %w", path, err)
	}
	defer zr.Close()
	f, err := zr.Open(ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("read manifest of %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest of %s: %w", path, err)
	}
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("read manifest of %s: larger than %d bytes", path, MaxManifestBytes)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest of %s: %w", path, err)
	}
	return &m, nil
}

// CustodyInfo describes custody.log: which audit rows it holds in full and
// where the audit chain stood when the package was made.
type CustodyInfo struct {
	// Rows is the number of audit rows given in full (those about the
	// exported hits, their sweeps and rule sets); Withheld the number of
	// other rows, given only by their hashes.
	Rows     int `json:"rows"`
	Withheld int `json:"withheld"`
	// LastID and LastHash are the last row of the audit log before the
	// export's own row: custody.log runs from row 1 to it.
	LastID   int64  `json:"last_id"`
	LastHash string `json:"last_hash"`
}
