package export

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestVerifyRefusesOverlappingEntries checks the defence against
// non-recursive zip bombs, whose entries share one run of compressed data.
func TestVerifyRefusesOverlappingEntries(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"a.txt", "b.txt"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("same bytes\n"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Point b.txt's central directory record at a.txt's local header.
	sig := []byte{'P', 'K', 1, 2}
	first := bytes.Index(data, sig)
	second := first + 1 + bytes.Index(data[first+1:], sig)
	if first < 0 || second <= first {
		t.Fatal("central directory not found")
	}
	binary.LittleEndian.PutUint32(data[second+42:], 0)
	path := filepath.Join(t.TempDir(), "bomb.zip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	r := &Report{}
	_, names, closeFn, err := openPackage(path, r)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if slices.Contains(names, "b.txt") {
		t.Errorf("names = %v: the overlapping entry would be read", names)
	}
	if !slices.Contains(names, "a.txt") {
		t.Errorf("names = %v, want a.txt kept", names)
	}
	if len(r.Problems) != 1 || r.Problems[0].File != "b.txt" || !strings.Contains(r.Problems[0].Detail, "overlaps") {
		t.Errorf("problems = %v, want one about b.txt overlapping", r.Problems)
	}
}
