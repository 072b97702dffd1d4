package autolist

import (
	"regexp"
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
	"руб": "RUB", "р": "RUB", "грн": "UAH",
}

var priceRE = func() *regexp.Regexp {
	sym := `US\$|CA?\$|AU?\$|HK\$|NZ\$|S\$|R\$|CN¥|[$€£¥￥₹₽₿₴₺₩ɱΞ]|zł|Kč`
	code := `(?i:USDT|USDC|USD|EUR|GBP|CAD|AUD|CHF|JPY|CNY|RMB|INR|RUB|UAH|PLN|CZK|SEK|NOK|DKK|TRY|BRL|MXN|HKD|SGD|NZD|KRW|BTC|XBT|XMR|ETH|LTC|TRX|dollars?|euros?|bitcoin|monero)`
	num := `\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+(?:[.,]\d{1,8})?|\d+(?:[.,]\d{1,8})?|[.,]\d{1,8}`
	return regexp.MustCompile(`(?:(` + sym + `)|\b(` + code + `)\b)\s?(` + num + `)|(` + num + `)\s?(?:(` + sym + `)|(` + code + `)\b)`)
}()

// ParsePrice finds the first amount with a currency in s ("$1,250.00",
// "12,50 €", "0.015 BTC", "USD 10-20/kg"). ok is false when s holds no amount
// next to a currency symbol or code.
func ParsePrice(s string) (Price, bool) {
	for _, m := range priceRE.FindAllStringSubmatch(s, 8) {
		var cur, num string
		if m[3] != "" {
			cur, num = firstNonEmpty(m[1], m[2]), m[3]
		} else {
			cur, num = firstNonEmpty(m[5], m[6]), m[4]
		}
		code := currencyCode(cur)
		amount := normalizeAmount(num)
		if code == "" || amount == "" {
			continue
		}
		return Price{Amount: amount, Currency: code}, true
	}
	return Price{}, false
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
