package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"snoop/export"
	"snoop/store"
	"snoop/vendors"
)

// vendorExportFlags are export's flags for vendor packages and shared
// formats.
type vendorExportFlags struct {
	vendors int64List
	format  string
	tlp     string
}

func (v *vendorExportFlags) register(fs *flag.FlagSet) {
	fs.Var(&v.vendors, "vendor", "pack this vendor: all its listings' evidence, identifiers, link graph and report (repeatable)")
	fs.StringVar(&v.format, "format", "zip", "zip (case package), misp (MISP event JSON) or stix (STIX 2.1 bundle JSON)")
	fs.StringVar(&v.tlp, "tlp", "amber", "TLP level of a misp or stix export: clear, green, amber, amber+strict or red")
}

// wanted reports whether the export is a vendor package or a shared format.
func (v *vendorExportFlags) wanted() bool { return len(v.vendors) > 0 || v.format != "zip" }

// exportVendors writes a vendor package (--vendor, zip) or a MISP event or
// STIX bundle (of the --vendor vendors, or of the vendors of the selected
// hits, restricted to those hits' listings).
func exportVendors(ctx context.Context, e env, dbPath, out, caseName, signKey, tsa, analyst string, f store.HitFilter, vf vendorExportFlags) error {
	switch vf.format {
	case "zip", "misp", "stix":
	default:
		return usagef("--format %q: want zip, misp or stix", vf.format)
	}
	if !export.ValidTLP(vf.tlp) {
		return usagef("--tlp %q: want clear, white, green, amber, amber+strict or red", vf.tlp)
	}
	if vf.format == "zip" && (len(f.IDs) > 0 || f.SweepID != 0 || !f.Since.IsZero() || f.Market != "" || f.Substance != "" || f.Status != "") {
		return usagef("export --vendor packs every listing of the vendors; it takes no hit selection flags")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("export: %s exists; choose another --out (snoop never overwrites a package)", out)
	}
	var key ed25519.PrivateKey
	if signKey != "" {
		if vf.format != "zip" {
			return usagef("--sign-key signs zip packages only")
		}
		var err error
		if key, err = export.LoadPrivateKey(signKey); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := vendors.NewService(db, vendors.Options{})
	profiles, err := selectProfiles(ctx, db, svc, vf.vendors, f)
	if err != nil {
		return err
	}
	if len(profiles) == 0 {
		return errors.New("export: nothing selected (no vendor, or no hit matches); nothing written")
	}
	now := time.Now().UTC()
	if caseName == "" {
		caseName = filepath.Base(out)
	}
	ids := make([]int64, len(profiles))
	for i, p := range profiles {
		ids[i] = p.ID
	}
	if vf.format != "zip" {
		var buf bytes.Buffer
		in := export.Intel{Case: caseName, Created: now, TLP: vf.tlp, ToolVersion: version, Vendors: profiles}
		if vf.format == "misp" {
			err = export.WriteMISP(&buf, in)
		} else {
			err = export.WriteSTIX(&buf, in)
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", out, err)
		}
		if err := writeNew(out, buf.Bytes()); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		details := map[string]any{"case": caseName, "file": filepath.Base(out), "format": vf.format, "tlp": vf.tlp,
			"vendors": ids, "sha256": hex.EncodeToString(sum[:])}
		if err := db.Audit(ctx, analyst, export.ActionExport, details, now); err != nil {
			os.Remove(out)
			return fmt.Errorf("record export in audit log (file removed): %w", err)
		}
		fmt.Fprintf(e.stdout, "wrote %s: %s, %d vendors, TLP:%s, %d bytes\n", out, vf.format, len(profiles), vf.tlp, buf.Len())
		return nil
	}
	extra, hitIDs, err := export.VendorDossier(ctx, db, profiles, caseName, version, analyst, now)
	if err != nil {
		return fmt.Errorf("export %s: %w", out, err)
	}
	if len(hitIDs) == 0 {
		hitIDs = []int64{0} // no hit has id 0: the package holds the dossier only
	}
	rs, _, err := loadRules("")
	if err != nil {
		return err
	}
	sum, err := export.Write(ctx, db, out, export.Options{
		Case: caseName, Filter: store.HitFilter{IDs: hitIDs, Status: export.StatusAny}, SignKey: key, ToolVersion: version,
		RuleVersion: rs.Version(), Actor: analyst, TSAURL: tsa, Extra: extra,
		Now: func() time.Time { return now },
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", out, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s: vendors %v, %d hits, %d files, %d bytes\n", sum.Path, ids, sum.Hits, sum.Files, sum.Bytes)
	return nil
}

// selectProfiles returns the profiles of the vendors ids, or else the
// profiles of the vendors of the hits f selects (confirmed hits when f
// names no status), each cut down to those hits' listings.
func selectProfiles(ctx context.Context, db *store.DB, svc *vendors.Service, ids []int64, f store.HitFilter) ([]vendors.Profile, error) {
	var out []vendors.Profile
	if len(ids) > 0 {
		for _, id := range ids {
			p, err := svc.Get(ctx, id)
			if err != nil {
				return nil, vendorError(fmt.Errorf("export: %w", err))
			}
			if !slices.ContainsFunc(out, func(q vendors.Profile) bool { return q.ID == p.ID }) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	if f.Status == "" {
		f.Status = store.StatusConfirmed
	}
	hits, err := db.Hits(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	keep := map[int64]bool{}
	var vids []int64
	for _, h := range hits {
		keep[h.ListingID] = true
		vid, err := svc.VendorOfListing(ctx, h.ListingID)
		if err != nil {
			return nil, err
		}
		if vid != 0 && !slices.Contains(vids, vid) {
			vids = append(vids, vid)
		}
	}
	for _, vid := range vids {
		p, err := svc.Get(ctx, vid)
		if err != nil {
			return nil, err
		}
		out = append(out, vendors.Restrict(p, keep))
	}
	return out, nil
}

// writeNew writes data to a file that must not exist, through a temporary
// file renamed into place.
func writeNew(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if _, err := os.Stat(path); err == nil {
		os.Remove(tmp)
		return fmt.Errorf("%s exists; snoop never overwrites an export", path)
	}
	return os.Rename(tmp, path)
}
