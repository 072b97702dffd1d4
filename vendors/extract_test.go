package vendors

import (
	"encoding/hex"
	"strings"
	"testing"

	"snoop/store"
)

// cfEncode hides an address the way Cloudflare's e-mail protection does.
func cfEncode(addr string, key byte) string {
	b := []byte{key}
	for i := range len(addr) {
		b = append(b, addr[i]^key)
	}
	return hex.EncodeToString(b)
}

func TestPageSightings(t *testing.T) {
	body := `<html><head><title>x</title><script>var support="help@market.example-shop.com"; var tg="@script_only_handle"</script>
<style>.a{background:url(https://cdn.styles-host.com/a.png)}</style></head><body>
<p>Contact: <b>Telegram:</b> <a href="https://t.me/iso_king">@iso_king</a></p>
<p>Mail <a href="/cdn-cgi/l/email-protection#` + cfEncode("isoking@proton.me", 0x5a) + `">[email&#160;protected]</a>
or <span class="__cf_email__" data-cfemail="` + cfEncode("orders@chem-direct.co.uk", 0x21) + `">[email protected]</span></p>
<p>Shop: <a href="https://www.isoking-labs.com/catalog">our site</a></p>
</body></html>`
	v := store.VersionText{ListingID: 7, EvidenceID: 42, URL: "https://darkbazaar.shop/item/1"}
	got := map[string]store.Sighting{}
	for _, s := range pageSightings(v, []byte(body)) {
		got[s.LinkKey] = s
		if s.Source != "page" || s.EvidenceID != 42 || s.ListingID != 7 {
			t.Errorf("sighting %+v: want listing 7, evidence 42, source page", s)
		}
		if s.Start < 0 || s.End > len(body) || s.Start >= s.End {
			t.Errorf("sighting %+v: span outside the page", s)
		}
	}
	for _, want := range []string{"telegram:iso_king", "email:isoking@proton.me", "email:orders@chem-direct.co.uk", "website:isoking-labs.com"} {
		if _, ok := got[want]; !ok {
			t.Errorf("page lacks %s; got %v", want, keysOf(got))
		}
	}
	for _, not := range []string{"telegram:script_only_handle", "website:styles-host.com"} {
		if _, ok := got[not]; ok {
			t.Errorf("%s taken from a script or style", not)
		}
	}
	// Spans point at the page's bytes.
	if s := got["telegram:iso_king"]; !strings.Contains(body[s.Start:s.End], "iso_king") {
		t.Errorf("telegram span %d..%d = %q", s.Start, s.End, body[s.Start:s.End])
	}
}

func TestSellerLinks(t *testing.T) {
	body := `<a href="/">Home</a> <a href="/vendor/isoking">IsoKing</a> <a href="/vendor/other">Other</a>
<a href="https://elsewhere.example/vendor/isoking">IsoKing</a> <a href="/item/2">Next item</a>`
	got := sellerLinks([]byte(body), "https://darkbazaar.shop/item/1", "isoking")
	if len(got) != 1 || got[0] != "https://darkbazaar.shop/vendor/isoking" {
		t.Errorf("sellerLinks = %v, want the seller's own page on the same site", got)
	}
}

func keysOf(m map[string]store.Sighting) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
