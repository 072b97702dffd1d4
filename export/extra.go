package export

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ExtraFile is a file added to a case package beside the hits and their
// evidence.
type ExtraFile struct {
	// Name is the file's path in the package: a relative slash path
	// outside the package's own files and directories (e.g.
	// "vendor/report.html").
	Name string
	Data []byte
}

// writeExtra writes the extra files into the package's staging directory
// and returns their names.
func (b *builder) writeExtra() ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, f := range b.opts.Extra {
		if err := checkExtraName(f.Name); err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("extra file %s given twice", f.Name)
		}
		seen[f.Name] = true
		dst := filepath.Join(b.tmp, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, f.Data, 0o600); err != nil {
			return nil, fmt.Errorf("extra file %s: %w", f.Name, err)
		}
		names = append(names, f.Name)
	}
	return names, nil
}

// checkExtraName refuses names that would escape the package or replace
// one of its own files.
func checkExtraName(name string) error {
	clean := path.Clean(name)
	switch {
	case name == "" || clean != name || path.IsAbs(name) || strings.HasPrefix(name, "../") || name == ".." || strings.Contains(name, "\\"):
		return fmt.Errorf("extra file %q: want a clean relative path", name)
	case strings.HasPrefix(name, EvidenceDir) || strings.HasPrefix(name, ScreenshotDir):
		return fmt.Errorf("extra file %q: %s and %s are the package's own", name, EvidenceDir, ScreenshotDir)
	}
	for _, own := range []string{HitsJSONLFile, HitsCSVFile, ReportFile, CustodyFile, ManifestFile, SumsFile, SignatureFile, TimestampFile} {
		if name == own {
			return fmt.Errorf("extra file %q: the package's own file", name)
		}
	}
	return nil
}
