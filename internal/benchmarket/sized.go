package benchmarket

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// SizedHandler serves the shop of Handler(n) with product pages of about
// pageBytes bytes: the listing, then a product-page body of shop prose
// (specifications, reviews, related items) drawn word by word from a fixed
// vocabulary with a generator seeded by the product number. Like a real
// shop page it compresses about threefold with gzip.
func SizedHandler(n, pageBytes int) http.Handler {
	base := Handler(n)
	mux := http.NewServeMux()
	mux.Handle("/", base)
	mux.HandleFunc("GET /product/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 1 || id > n {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<h1>%s</h1><div class="description">%s</div><span class="price">$%d.%02d</span><span class="vendor">vendor%d</span>`,
			title(id), description(id), 10+id%490, id%100, id%37)
		b.WriteString(`<div class="details">`)
		prose(&b, id, pageBytes-b.Len()-200)
		b.WriteString(`</div><a href="/list/1">back</a> <a href="/cart">cart</a>`)
		writePage(w, title(id), b.String())
	})
	return mux
}

// vocabulary is the words of the generated prose.
var vocabulary = strings.Fields(`the a and of to in for with on this that is are was be it as at by from or
	product item quality delivery shipping customer review rating stars price value size colour weight battery
	material cotton steel wood plastic glass leather warranty return order package box cable charger adapter
	screen light power fast slow good great excellent poor average comfortable durable easy hard small large
	use used using bought recommend would again after before week month day year works worked working fits
	black white grey blue red green silver model version edition series pro max mini plus standard premium
	<li> </li> <p> </p> <span> </span> <b> </b> class="spec" class="review" data-id="` + "\n")

// prose writes about size bytes of generated text for product id.
func prose(b *strings.Builder, id, size int) {
	rnd := rand.New(rand.NewPCG(uint64(id), 0x5eed))
	start := b.Len()
	for b.Len()-start < size {
		w := vocabulary[rnd.IntN(len(vocabulary))]
		b.WriteString(w)
		if w == `data-id="` {
			fmt.Fprintf(b, `%d"`, rnd.IntN(1_000_000))
		}
		if rnd.IntN(12) == 0 {
			fmt.Fprintf(b, " %d", rnd.IntN(10_000))
		}
		b.WriteByte(' ')
	}
}
