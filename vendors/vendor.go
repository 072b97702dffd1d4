// Package vendors turns listings into the sellers behind them. It extracts
// contact and payment identifiers from every stored listing and its page
// (package identify), links listings into vendors, and is the one service
// that the command line and the workbench call to list, show, triage,
// merge and split vendors.
//
// # Linking
//
// A vendor is the set of listings connected by
//
//   - a shared identifier (a contact, a payment address, a PGP key), or
//   - the same seller name on the same marketplace.
//
// A name alone never links across marketplaces; the same name elsewhere is
// shown as a suggestion with its reason. An identifier shown by many
// unrelated sellers of one marketplace (the site's support contact, its
// escrow address, a footer e-mail) is evidence of nothing: it is found
// from the data (see commonRule) and links nothing anywhere. Analysts'
// merges and splits are stored as decisions on listings and replayed at
// every relink, so they survive later sweeps; a later decision supersedes
// an earlier one it contradicts.
package vendors

import (
	"errors"
	"fmt"
	"time"

	"snoop/store"
)

// Status is a vendor's triage status.
type Status string

// Vendor statuses.
const (
	StatusNew       Status = "new"
	StatusTarget    Status = "target"
	StatusMonitor   Status = "monitor"
	StatusDismissed Status = "dismissed"
)

// ValidStatus reports whether s is a vendor status.
func ValidStatus(s Status) bool {
	switch s {
	case StatusNew, StatusTarget, StatusMonitor, StatusDismissed:
		return true
	}
	return false
}

// MaxNote is the longest note (in bytes) a status, merge or split takes.
const MaxNote = 4000

// Vendor is one seller: the SPEC's vendor object.
type Vendor struct {
	ID           int64        `json:"id"`
	Names        []string     `json:"names"`
	Marketplaces []string     `json:"marketplaces"`
	Identifiers  []Identifier `json:"identifiers"`
	Listings     []Listing    `json:"listings"`
	Hits         int          `json:"hits"`
	Substances   []string     `json:"substances"`
	Status       Status       `json:"status"`
	Note         string       `json:"note,omitempty"`
	FirstSeen    time.Time    `json:"first_seen"`
	LastSeen     time.Time    `json:"last_seen"`
}

// Identifier is one of a vendor's identifiers.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Listing is one of a vendor's listings.
type Listing struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Marketplace string    `json:"marketplace"`
	Hit         bool      `json:"hit"`
	Gone        bool      `json:"gone"`
	Title       string    `json:"title"`
	Name        string    `json:"name"` // the seller name the listing shows
	Price       string    `json:"price"`
	HitID       int64     `json:"hit_id,omitempty"`
	HitStatus   string    `json:"hit_status,omitempty"`
	Substances  []string  `json:"substances,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	GoneAt      time.Time `json:"gone_at,omitzero"`
}

// Profile is everything known about one vendor.
type Profile struct {
	Vendor
	// Sightings tells where each identifier was seen: listing, evidence
	// record, field and byte span.
	Sightings []IdentifierSightings `json:"sightings"`
	// Links explain why the listings belong together.
	Links []Link `json:"links"`
	// Suggestions are vendors elsewhere with the same name, not linked.
	Suggestions []Suggestion `json:"suggestions"`
	// Common are identifiers on the vendor's listings that many sellers of
	// a marketplace show, and that therefore link nothing.
	Common       []store.CommonIdentifier `json:"common_identifiers"`
	Prices       []store.PricePoint       `json:"prices"`
	Timeline     []Event                  `json:"timeline"`
	Decisions    []store.VendorDecision   `json:"decisions"`
	StatusBy     string                   `json:"status_by,omitempty"`
	StatusAt     time.Time                `json:"status_at,omitzero"`
	MergedVendor []int64                  `json:"merged_vendors,omitempty"`
}

// IdentifierSightings is one identifier with every place it was seen.
type IdentifierSightings struct {
	Identifier
	Seen []store.Sighting `json:"seen"`
}

// Link is one reason why listings belong to one vendor.
type Link struct {
	// Reason is "identifier", "name" or "analyst".
	Reason string `json:"reason"`
	// Identifier is the shared identifier (Reason "identifier").
	Identifier *Identifier `json:"identifier,omitempty"`
	// Name and Marketplace are the shared seller name (Reason "name").
	Name        string `json:"name,omitempty"`
	Marketplace string `json:"marketplace,omitempty"`
	// Decision is the analyst's merge (Reason "analyst").
	Decision int64 `json:"decision,omitempty"`
	// Listings are the listings it connects; Evidence the evidence records
	// in which the identifier was seen on them.
	Listings []int64 `json:"listings"`
	Evidence []int64 `json:"evidence,omitempty"`
	// Text says it in words.
	Text string `json:"text"`
}

// Suggestion is a vendor on another marketplace showing the same name,
// which is no evidence of a link on its own.
type Suggestion struct {
	VendorID    int64  `json:"vendor_id"`
	Name        string `json:"name"`
	Marketplace string `json:"marketplace"`
	Reason      string `json:"reason"`
}

// Event is one dated entry of a vendor's activity timeline.
type Event struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"` // listed, gone, hit, price
	ListingID int64     `json:"listing_id"`
	Text      string    `json:"text"`
}

// Filter selects vendors. The zero Filter selects vendors with at least
// one hit.
type Filter struct {
	All       bool   // every vendor, with hits or not
	Market    string // vendors with a listing on this marketplace
	Substance string // vendors with a hit naming this substance
	Status    Status // vendors with this status
	IDs       []int64
	// ChangedSince keeps vendors with a hit first or last detected at or
	// after it.
	ChangedSince time.Time
}

// Code classifies an Error for the command line (exit code) and the web
// (HTTP status).
type Code string

// Error codes.
const (
	Invalid  Code = "invalid"   // bad input: exit 2 / HTTP 400
	NotFound Code = "not_found" // exit 1 / HTTP 404
	Conflict Code = "conflict"  // exit 1 / HTTP 409
)

// Error is an error the vendor service reports with a code.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with the code and formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or "" if it carries none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
