package export

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium is wrapped by the error a PDFPrinter returns when no
// headless Chromium is installed.
var ErrNoChromium = errors.New("no headless Chromium installed")

// PDFPrinter prints report.html as report.pdf.
type PDFPrinter interface {
	// PrintPDF renders the HTML file at path and returns it as a PDF.
	PrintPDF(ctx context.Context, path string) ([]byte, error)
}

// ChromiumPDF prints with headless Chromium (Debian's chromium package) through
// the DevTools protocol. The report has no scripts, and the printer also
// disables JavaScript and blocks every network request, so nothing in the
// evidence shown by the report can run or phone home while it is printed.
type ChromiumPDF struct {
	// ExecPath is the browser binary; "" looks up chromium,
	// chromium-browser and google-chrome in PATH.
	ExecPath string
	// Timeout bounds one print; 0 means two minutes.
	Timeout time.Duration
}

var _ PDFPrinter = ChromiumPDF{}

// Available reports whether a browser is installed, and its path.
func (c ChromiumPDF) Available() (string, bool) {
	p, err := c.browser()
	return p, err == nil
}

func (c ChromiumPDF) browser() (string, error) {
	if c.ExecPath != "" {
		p, err := exec.LookPath(c.ExecPath)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrNoChromium, c.ExecPath, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked for chromium, chromium-browser and google-chrome in PATH)", ErrNoChromium)
}

// PrintPDF implements PDFPrinter.
func (c ChromiumPDF) PrintPDF(ctx context.Context, path string) ([]byte, error) {
	execPath, err := c.browser()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	dataDir, err := os.MkdirTemp("", "snoop-pdf-")
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	defer os.RemoveAll(dataDir)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "no-first-run", "no-default-browser-check",
		"disable-background-networking", "disable-component-update", "disable-sync", "disable-default-apps",
		"disable-extensions", "disable-breakpad", "disable-dev-shm-usage", "no-pings", "mute-audio"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	pdf, err := chromedp.Run(browserCtx, chromedp.Action[[]byte](func(ctx context.Context, tgt *chromedp.Target) ([]byte, error) {
		if _, err := cdp.Call(ctx, tgt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			return nil, fmt.Errorf("disable scripts: %w", err)
		}
		if _, err := cdp.Call(ctx, tgt, network.Enable, network.EnableParams{}); err != nil {
			return nil, fmt.Errorf("enable network: %w", err)
		}
		var block []*network.BlockPattern
		for _, scheme := range []string{"http", "https", "ws", "wss", "ftp"} {
			block = append(block, &network.BlockPattern{URLPattern: scheme + "://*:*/*", Block: true})
		}
		if _, err := cdp.Call(ctx, tgt, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: block}); err != nil {
			return nil, fmt.Errorf("block network: %w", err)
		}
		if _, err := chromedp.Navigate(fileURL)(ctx, tgt); err != nil {
			return nil, fmt.Errorf("load report: %w", err)
		}
		yes := true
		margin := 0.4
		res, err := cdp.Call(ctx, tgt, page.PrintToPDF, page.PrintToPDFParams{
			PrintBackground: &yes, PaperWidth: 8.27, PaperHeight: 11.69, // A4
			MarginTop: &margin, MarginBottom: &margin, MarginLeft: &margin, MarginRight: &margin,
			DisplayHeaderFooter: &yes, HeaderTemplate: "<span></span>",
			FooterTemplate: `<div style="font-size:8px;width:100%;text-align:center"><span class="pageNumber"></span> / <span class="totalPages"></span></div>`,
		})
		if err != nil {
			return nil, fmt.Errorf("print: %w", err)
		}
		return res.Data, nil
	}))
	if err != nil {
		return nil, fmt.Errorf("print pdf with %s: %w", execPath, err)
	}
	return pdf, nil
}
