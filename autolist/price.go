package autolist

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Price is an amount with its currency, as read from a page.
type Price struct {
	Amount   string // decimal with '.' as separator, no grouping: "1234.50"
	Currency string // ISO 4217 code or a crypto ticker: "USD", "EUR", "BTC"
}

// String formats p as "AMOUNT CURRENCY", or "" for the zero Price.
func (p Price) String() string {
	switch {
	case p.Amount == "":
		return ""
	case p.Currency == "":
		return p.Amount
	}
	return p.Amount + " " + p.Currency
}

// currencySymbols maps symbols and prefixed symbols to codes. Longer keys are
// tried first by the regular expression below.
var currencySymbols = map[string]string{
	"us$": "USD", "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "hk$": "HKD", "nz$": "NZD", "s$": "SGD",
	"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "cn¥": "CNY", "￥": "CNY", "₹": "INR", "₽": "RUB", "₿": "BTC",
	"₴": "UAH", "zł": "PLN", "₺": "TRY", "r$": "BRL", "kč": "CZK", "₩": "KRW", "ɱ": "XMR", "ξ": "ETH", "Ξ": "ETH",
}

// currencyCodes are codes and words taken as currencies next to an amount.
var currencyCodes = map[string]string{
	"usd": "USD", "eur": "EUR", "gbp": "GBP", "cad": "CAD", "aud": "AUD", "chf": "CHF", "jpy": "JPY", "cny": "CNY",
	"rmb": "CNY", "inr": "INR", "rub": "RUB", "uah": "UAH", "pln": "PLN", "czk": "CZK", "sek": "SEK", "nok": "NOK",
	"dkk": "DKK", "try": "TRY", "brl": "BRL", "mxn": "MXN", "hkd": "HKD", "sgd": "SGD", "nzd": "NZD", "krw": "KRW",
	"btc": "BTC", "xbt": "BTC", "xmr": "XMR", "eth": "ETH", "ltc": "LTC", "usdt": "USDT", "usdc": "USDC", "trx": "TRX",
	"dollars": "USD", "dollar": "USD", "euro": "EUR", "euros": "EUR", "bitcoin": "BTC", "monero": "XMR",
	"руб": "RUB", "грн": "UAH",
}

// numberRE matches an amount: digits with optional thousands groups and
// decimals ("1,250.00", "1.250,00", "1 250", "0.0041").
var numberRE = regexp.MustCompile(`(?:\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+|\d+)(?:[.,]\d{1,8})?`)

// plainNumberRE is an amount without thousands groups.
var plainNumberRE = regexp.MustCompile(`^\d+(?:[.,]\d{1,8})?`)

// currencyKeys are the symbols and codes of currencySymbols and
// currencyCodes, longest first, so that "us$" wins over "$".
var currencyKeys = func() []string {
	var keys []string
	for k := range currencySymbols {
		keys = append(keys, k)
	}
	for k := range currencyCodes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b)) })
	return keys
}()

// ParsePrice finds the first amount with a currency in s ("$1,250.00",
// "12,50 €", "0.015 BTC", "USD 10-20/kg"). ok is false when s holds no amount
// next to a currency symbol or code.
func ParsePrice(s string) (Price, bool) {
	if !strings.ContainsAny(s, "0123456789") {
		return Price{}, false
	}
	for pos, n := 0, 0; pos < len(s) && n < 32; n++ {
		m := numberRE.FindStringIndex(s[pos:])
		if m == nil {
			break
		}
		a, b := pos+m[0], pos+m[1]
		if b < len(s) && s[b] >= '0' && s[b] <= '9' {
			// "0.0041": not a thousands group; read it as one decimal number.
			if p := plainNumberRE.FindStringIndex(s[a:]); p != nil {
				b = a + p[1]
			}
		}
		pos = b
		cur := currencyBefore(s[:a])
		if cur == "" && a > 0 && isWordByte(s[a-1]) {
			continue // part of a longer token ("B12", "x5")
		}
		if cur == "" {
			cur = currencyAfter(s[b:])
		}
		if cur == "" {
			continue
		}
		if amount := normalizeAmount(s[a:b]); amount != "" {
			return Price{Amount: amount, Currency: cur}, true
		}
	}
	return Price{}, false
}

// currencyBefore is the currency that ends s (one space allowed).
func currencyBefore(s string) string {
	s = trimOneSpace(s, true)
	for _, k := range currencyKeys {
		if len(s) < len(k) || !strings.EqualFold(s[len(s)-len(k):], k) {
			continue
		}
		if isLetters(k) && len(s) > len(k) && isWordByte(s[len(s)-len(k)-1]) {
			continue
		}
		return currencyCode(k)
	}
	return ""
}

// currencyAfter is the currency that starts s (one space allowed).
func currencyAfter(s string) string {
	s = trimOneSpace(s, false)
	for _, k := range currencyKeys {
		if len(s) < len(k) || !strings.EqualFold(s[:len(k)], k) {
			continue
		}
		if isLetters(k) && len(s) > len(k) && isWordByte(s[len(k)]) {
			continue
		}
		return currencyCode(k)
	}
	return ""
}

func trimOneSpace(s string, end bool) string {
	for _, sp := range []string{" ", "\u00a0", "\u202f"} {
		if end && strings.HasSuffix(s, sp) {
			return s[:len(s)-len(sp)]
		}
		if !end && strings.HasPrefix(s, sp) {
			return s[len(sp):]
		}
	}
	return s
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isLetters reports a code made of ASCII letters (it needs word boundaries).
func isLetters(k string) bool {
	for i := 0; i < len(k); i++ {
		if !(k[i] >= 'a' && k[i] <= 'z') {
			return false
		}
	}
	return true
}

// PriceFrom combines a machine-readable amount and currency (structured
// data, data attributes). The amount may carry a symbol; the currency may be
// a code or a symbol.
func PriceFrom(amount, currency string) (Price, bool) {
	amount, currency = strings.TrimSpace(amount), strings.TrimSpace(currency)
	if amount == "" {
		return Price{}, false
	}
	if p, ok := ParsePrice(amount); ok {
		if c := currencyCode(currency); c != "" {
			p.Currency = c
		}
		return p, true
	}
	n := normalizeAmount(strings.Fields(amount + " ")[0])
	if n == "" {
		return Price{}, false
	}
	return Price{Amount: n, Currency: currencyCode(currency)}, true
}

func currencyCode(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	l := strings.ToLower(s)
	if c, ok := currencySymbols[l]; ok {
		return c
	}
	if c, ok := currencyCodes[l]; ok {
		return c
	}
	if len(s) == 3 && strings.ToUpper(s) == s {
		return s // an ISO code we do not list
	}
	return ""
}

// normalizeAmount turns "1,234.50", "1.234,50", "1 234,5" or "12,50" into a
// plain decimal. A lone separator followed by exactly three digits is a
// thousands separator when the integer part is not 0 ("1,500" is 1500,
// "0.015" stays 0.015).
func normalizeAmount(s string) string {
	s = strings.NewReplacer("\u00a0", "", "\u202f", "", " ", "", "'", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := -1
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = max(lastDot, lastComma)
	case lastDot >= 0 || lastComma >= 0:
		i := max(lastDot, lastComma)
		sep := s[i]
		multi := strings.Count(s, string(sep)) > 1
		three := len(s)-i-1 == 3
		intPart := strings.TrimLeft(s[:i], "0")
		if !(multi || (three && intPart != "")) {
			dec = i
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case i == dec:
			b.WriteByte('.')
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") {
		out = "0" + out
	}
	if strings.Trim(out, "0.") == "" {
		return "" // a zero price is no price ("Free", "0.00" placeholders)
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
