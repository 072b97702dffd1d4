package export

// Sharing with partner agencies: vendor profiles as a MISP event (MISP's
// JSON event format) or a STIX 2.1 bundle. Ids are derived from the
// content (UUID version 5), so exporting the same vendors twice gives the
// same ids and partners' tools merge rather than duplicate.

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"snoop/store"
	"snoop/vendors"
)

// TLP levels accepted for shared exports.
var tlpLevels = []string{"clear", "white", "green", "amber", "amber+strict", "red"}

// ValidTLP reports whether s is a TLP level (clear, white, green, amber,
// amber+strict, red).
func ValidTLP(s string) bool { return slices.Contains(tlpLevels, s) }

// Intel is what a shared export holds.
type Intel struct {
	Case    string
	Created time.Time
	// TLP is the Traffic Light Protocol level of the whole export.
	TLP         string
	ToolVersion string
	Vendors     []vendors.Profile
}

// snoopNamespace scopes the UUIDs snoop derives.
var snoopNamespace = uuid.MustParse("5b0c4e2e-8f1d-4c55-9a43-3f0a6a8e2d11")

func stableUUID(parts ...string) string {
	return uuid.NewSHA1(snoopNamespace, []byte(strings.Join(parts, "\x00"))).String()
}

// mispType maps an identifier kind to a MISP attribute type and category.
func mispType(kind, value string) (typ, category string) {
	switch kind {
	case "email":
		return "email", "Social network"
	case "phone", "whatsapp", "signal":
		if strings.HasPrefix(value, "+") {
			return "phone-number", "Person"
		}
	case "jabber":
		return "jabber-id", "Social network"
	case "website":
		return "domain", "Network activity"
	case "btc":
		return "btc", "Financial fraud"
	case "xmr":
		return "xmr", "Financial fraud"
	case "eth", "ltc", "trx":
		return "text", "Financial fraud"
	case "pgp":
		return "text", "Person"
	}
	return "text", "Social network"
}

type mispTag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

type mispAttribute struct {
	UUID           string    `json:"uuid"`
	Type           string    `json:"type"`
	Category       string    `json:"category"`
	Value          string    `json:"value"`
	ToIDs          bool      `json:"to_ids"`
	Comment        string    `json:"comment,omitempty"`
	Timestamp      string    `json:"timestamp"`
	Distribution   string    `json:"distribution"`
	ObjectRelation string    `json:"object_relation,omitempty"`
	Tag            []mispTag `json:"Tag,omitempty"`
}

type mispObject struct {
	UUID            string          `json:"uuid"`
	Name            string          `json:"name"`
	MetaCategory    string          `json:"meta-category"`
	Description     string          `json:"description"`
	TemplateUUID    string          `json:"template_uuid"`
	TemplateVersion string          `json:"template_version"`
	Comment         string          `json:"comment,omitempty"`
	Timestamp       string          `json:"timestamp"`
	Distribution    string          `json:"distribution"`
	Attribute       []mispAttribute `json:"Attribute"`
}

type mispOrg struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

type mispEvent struct {
	UUID          string          `json:"uuid"`
	Info          string          `json:"info"`
	Date          string          `json:"date"`
	ThreatLevelID string          `json:"threat_level_id"`
	Analysis      string          `json:"analysis"`
	Distribution  string          `json:"distribution"`
	Published     bool            `json:"published"`
	Timestamp     string          `json:"timestamp"`
	Orgc          mispOrg         `json:"Orgc"`
	Tag           []mispTag       `json:"Tag"`
	Attribute     []mispAttribute `json:"Attribute"`
	Object        []mispObject    `json:"Object"`
}

// tlpColour is the MISP tag colour of a TLP level.
func tlpColour(level string) string {
	switch level {
	case "red":
		return "#CC0033"
	case "amber", "amber+strict":
		return "#FFC000"
	case "green":
		return "#339900"
	}
	return "#FFFFFF"
}

// MISPEvent returns the MISP event for in: event attributes for every
// listing URL and substance, and one "snoop-vendor" object per vendor
// holding its names, identifiers, marketplaces and substances, each
// attribute with the MISP type of its kind. The event is tagged with its
// TLP level; it is not published and is shared with this community only
// (distribution 1) so that the receiving analyst decides.
func MISPEvent(in Intel) map[string]any {
	ts := strconv.FormatInt(in.Created.Unix(), 10)
	var ids []string
	for _, p := range in.Vendors {
		ids = append(ids, strconv.FormatInt(p.ID, 10))
	}
	ev := mispEvent{
		UUID:          stableUUID("misp-event", in.Case, strings.Join(ids, ",")),
		Info:          fmt.Sprintf("snoop %s: %d vendors offering synthetic opioids", in.Case, len(in.Vendors)),
		Date:          in.Created.UTC().Format("2006-01-02"),
		ThreatLevelID: "2",
		Analysis:      "2",
		Distribution:  "1",
		Timestamp:     ts,
		Orgc:          mispOrg{Name: "snoop", UUID: stableUUID("org", "snoop")},
		Tag:           []mispTag{{Name: "tlp:" + in.TLP, Colour: tlpColour(in.TLP)}, {Name: "snoop"}},
		Attribute:     []mispAttribute{},
		Object:        []mispObject{},
	}
	seenURL, seenSub := map[string]bool{}, map[string]bool{}
	for _, p := range in.Vendors {
		vid := strconv.FormatInt(p.ID, 10)
		obj := mispObject{
			UUID: stableUUID("misp-object", in.Case, vid), Name: "snoop-vendor", MetaCategory: "misc",
			Description:     "A seller of synthetic opioids found by snoop: names, contact and payment identifiers and marketplaces.",
			TemplateUUID:    stableUUID("misp-template", "snoop-vendor"),
			TemplateVersion: "1", Comment: fmt.Sprintf("snoop vendor %d, status %s", p.ID, p.Status),
			Timestamp: ts, Distribution: "5", Attribute: []mispAttribute{},
		}
		add := func(rel, typ, cat, value string, toIDs bool, comment string) {
			obj.Attribute = append(obj.Attribute, mispAttribute{UUID: stableUUID("misp-attr", in.Case, vid, rel, value),
				Type: typ, Category: cat, Value: value, ToIDs: toIDs, Comment: comment, Timestamp: ts, Distribution: "5", ObjectRelation: rel})
		}
		for _, n := range p.Names {
			add("name", "text", "Person", n, false, "seller name")
		}
		for _, m := range p.Marketplaces {
			add("marketplace", "text", "Other", m, false, "marketplace")
		}
		for _, s := range p.Sightings {
			typ, cat := mispType(s.Kind, s.Value)
			comment := fmt.Sprintf("%s, seen on %d listings", s.Kind, len(s.Seen))
			add(s.Kind, typ, cat, s.Value, typ != "text", comment)
		}
		for _, sub := range p.Substances {
			add("substance", "text", "Other", sub, false, "substance offered")
		}
		ev.Object = append(ev.Object, obj)
		for _, l := range p.Listings {
			if !seenURL[l.URL] {
				seenURL[l.URL] = true
				c := fmt.Sprintf("listing %d on %s by %q (vendor %d)", l.ID, l.Marketplace, l.Name, p.ID)
				if l.HitID != 0 {
					c += fmt.Sprintf(", hit %d (%s)", l.HitID, l.HitStatus)
				}
				ev.Attribute = append(ev.Attribute, mispAttribute{UUID: stableUUID("misp-url", in.Case, l.URL), Type: "url",
					Category: "Network activity", Value: l.URL, ToIDs: false, Comment: c, Timestamp: ts, Distribution: "5"})
			}
		}
		for _, sub := range p.Substances {
			if !seenSub[sub] {
				seenSub[sub] = true
				ev.Attribute = append(ev.Attribute, mispAttribute{UUID: stableUUID("misp-substance", in.Case, sub), Type: "text",
					Category: "Other", Value: sub, Comment: "substance offered (canonical name)", Timestamp: ts, Distribution: "5"})
			}
		}
	}
	return map[string]any{"Event": ev}
}

// WriteMISP writes in as a MISP event (JSON).
func WriteMISP(w io.Writer, in Intel) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(MISPEvent(in))
}

// STIX 2.1 TLP marking definitions, as published with the standard.
var stixTLP = map[string]string{
	"clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
	"amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	"red":   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stixPattern returns the STIX pattern and observable of an identifier.
// E-mail addresses, domains and messenger accounts use the standard
// observables; numbers, crypto addresses and PGP keys, for which STIX has
// none, use custom observables (x-phone-number, x-cryptocurrency-wallet,
// x-pgp-key).
func stixObservable(kind, value string) (pattern string, sco map[string]any) {
	q := strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `'`, `\'`)
	mk := func(typ string, props map[string]any) map[string]any {
		props["type"] = typ
		props["spec_version"] = "2.1"
		props["id"] = typ + "--" + stableUUID("sco", typ, kind, value)
		return props
	}
	switch kind {
	case "email":
		return "[email-addr:value = '" + q + "']", mk("email-addr", map[string]any{"value": value})
	case "website":
		return "[domain-name:value = '" + q + "']", mk("domain-name", map[string]any{"value": value})
	case "phone":
		return "[x-phone-number:value = '" + q + "']", mk("x-phone-number", map[string]any{"value": value})
	case "btc", "eth", "ltc", "trx", "xmr":
		return "[x-cryptocurrency-wallet:address = '" + q + "']", mk("x-cryptocurrency-wallet", map[string]any{"address": value, "currency": strings.ToUpper(kind)})
	case "pgp":
		return "[x-pgp-key:fingerprint = '" + q + "']", mk("x-pgp-key", map[string]any{"fingerprint": value})
	}
	return "[user-account:account_type = '" + kind + "' AND user-account:account_login = '" + q + "']",
		mk("user-account", map[string]any{"account_type": kind, "account_login": value})
}

// STIXBundle returns the STIX 2.1 bundle for in: an identity for snoop,
// the TLP marking, and per vendor a threat-actor, an indicator per
// identifier ("indicates" the actor), an observed-data per listing with
// its URL and the identifiers seen on it, and relationships tying them
// to the actor.
func STIXBundle(in Intel) map[string]any {
	now := stixTime(in.Created)
	marking := stixTLP[in.TLP]
	if marking == "" {
		marking = stixTLP["amber"]
	}
	identity := map[string]any{
		"type": "identity", "spec_version": "2.1", "id": "identity--" + stableUUID("identity", "snoop"),
		"created": now, "modified": now, "name": "snoop", "identity_class": "system",
		"description": "snoop finds online sales of fentanyl, nitazenes and other synthetic opioids.",
	}
	idRef := identity["id"].(string)
	objects := []any{identity}
	tlp := in.TLP
	if tlp == "clear" {
		tlp = "white"
	}
	if tlp == "amber+strict" {
		tlp = "amber"
	}
	objects = append(objects, map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": marking, "created": "2017-01-20T00:00:00.000Z",
		"definition_type": "tlp", "name": "TLP:" + strings.ToUpper(tlp), "definition": map[string]any{"tlp": tlp},
	})
	common := func(typ, key string) map[string]any {
		return map[string]any{"type": typ, "spec_version": "2.1", "id": typ + "--" + stableUUID("stix", typ, in.Case, key),
			"created": now, "modified": now, "created_by_ref": idRef, "object_marking_refs": []string{marking}}
	}
	seenSCO := map[string]bool{}
	addSCO := func(sco map[string]any) string {
		id := sco["id"].(string)
		if !seenSCO[id] {
			seenSCO[id] = true
			sco["object_marking_refs"] = []string{marking}
			objects = append(objects, sco)
		}
		return id
	}
	for _, p := range in.Vendors {
		vid := strconv.FormatInt(p.ID, 10)
		actor := common("threat-actor", vid)
		name := fmt.Sprintf("snoop vendor %d", p.ID)
		if len(p.Names) > 0 {
			name = p.Names[0]
		}
		actor["name"] = name
		if len(p.Names) > 1 {
			actor["aliases"] = p.Names[1:]
		}
		actor["threat_actor_types"] = []string{"criminal"}
		actor["roles"] = []string{"agent"}
		actor["description"] = fmt.Sprintf("Seller on %s offering %s; %d listings, %d hits. snoop vendor %d, status %s.",
			strings.Join(p.Marketplaces, ", "), orNoneList(p.Substances), len(p.Listings), p.Hits, p.ID, p.Status)
		if !p.FirstSeen.IsZero() {
			actor["first_seen"] = stixTime(p.FirstSeen)
		}
		if !p.LastSeen.IsZero() && !p.LastSeen.Before(p.FirstSeen) {
			actor["last_seen"] = stixTime(p.LastSeen)
		}
		actor["labels"] = append([]string{"synthetic-opioids"}, p.Substances...)
		actorID := actor["id"].(string)
		objects = append(objects, actor)
		scoOf := map[string]string{} // kind\x00value -> sco id
		for _, s := range p.Sightings {
			pattern, sco := stixObservable(s.Kind, s.Value)
			scoOf[s.Kind+"\x00"+s.Value] = addSCO(sco)
			ind := common("indicator", vid+"\x00"+s.Kind+"\x00"+s.Value)
			ind["name"] = s.Kind + " " + s.Value
			ind["description"] = fmt.Sprintf("%s of %s, seen on %d listings.", s.Kind, name, len(s.Seen))
			ind["indicator_types"] = []string{"attribution"}
			ind["pattern"] = pattern
			ind["pattern_type"] = "stix"
			ind["pattern_version"] = "2.1"
			ind["valid_from"] = stixTime(firstSeen(s.Seen, in.Created))
			objects = append(objects, ind)
			rel := common("relationship", "indicates\x00"+ind["id"].(string))
			rel["relationship_type"] = "indicates"
			rel["source_ref"] = ind["id"]
			rel["target_ref"] = actorID
			objects = append(objects, rel)
		}
		for _, l := range p.Listings {
			refs := []string{addSCO(map[string]any{"type": "url", "spec_version": "2.1", "id": "url--" + stableUUID("sco", "url", l.URL), "value": l.URL})}
			for _, s := range p.Sightings {
				for _, x := range s.Seen {
					if x.ListingID == l.ID {
						if id := scoOf[s.Kind+"\x00"+s.Value]; !slices.Contains(refs, id) {
							refs = append(refs, id)
						}
					}
				}
			}
			od := common("observed-data", fmt.Sprint(l.ID))
			first, last := l.FirstSeen, l.LastSeen
			if first.IsZero() {
				first = in.Created
			}
			if last.Before(first) {
				last = first
			}
			od["first_observed"] = stixTime(first)
			od["last_observed"] = stixTime(last)
			od["number_observed"] = 1
			od["object_refs"] = refs
			objects = append(objects, od)
			rel := common("relationship", "related-to\x00"+od["id"].(string))
			rel["relationship_type"] = "related-to"
			rel["source_ref"] = actorID
			rel["target_ref"] = od["id"]
			rel["description"] = fmt.Sprintf("listing %d on %s: %s", l.ID, l.Marketplace, l.Title)
			objects = append(objects, rel)
		}
	}
	return map[string]any{"type": "bundle", "id": "bundle--" + stableUUID("bundle", in.Case, now), "objects": objects}
}

func orNoneList(ss []string) string {
	if len(ss) == 0 {
		return "no detected substance"
	}
	return strings.Join(ss, ", ")
}

func firstSeen(seen []store.Sighting, def time.Time) time.Time {
	var t time.Time
	for _, x := range seen {
		if !x.SeenAt.IsZero() && (t.IsZero() || x.SeenAt.Before(t)) {
			t = x.SeenAt
		}
	}
	if t.IsZero() {
		return def
	}
	return t
}

// WriteSTIX writes in as a STIX 2.1 bundle (JSON).
func WriteSTIX(w io.Writer, in Intel) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(STIXBundle(in))
}
