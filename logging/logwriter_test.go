package logging_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logroll/logroll/logging"
)

// The LogWriter's tests, from outside the package: what a Go program
// writes through it, checked in the files on disk.

// openApp opens a collator on a new folder with one log, app.log, that
// rolls only when asked, and closes it at the end of the test.
func openApp(t *testing.T) (*logging.Collator, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := logging.Open(logging.Config{
		Dir:        dir,
		Hostname:   "web01",
		Durability: logging.DurabilityWrite,
		Logs:       []logging.LogConfig{{Name: "app.log"}},
	}, logging.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c, dir
}

// appWriter returns a LogWriter of app.log.
func appWriter(t *testing.T, c *logging.Collator) *logging.LogWriter {
	t.Helper()
	w, err := c.Writer("app.log")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// active returns the active file's content.
func active(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mustWrite writes s and fails the test unless all of it was accepted.
func mustWrite(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if n, err := io.WriteString(w, s); n != len(s) || err != nil {
		t.Fatalf("Write(%.40q) = %d, %v; want %d, nil", s, n, err, len(s))
	}
}

func TestLogWriterLines(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	// Whole lines go at once, the partial line waits for its newline, and
	// empty lines are dropped.
	steps := []struct{ write, file string }{
		{"one\ntwo\n", "one\ntwo\n"},
		{"thr", "one\ntwo\n"},
		{"ee", "one\ntwo\n"},
		{"\nfour\n\n\nfi", "one\ntwo\nthree\nfour\n"},
		{"\n", "one\ntwo\nthree\nfour\nfi\n"},
		{"\n\n", "one\ntwo\nthree\nfour\nfi\n"},
		{"", "one\ntwo\nthree\nfour\nfi\n"},
		{"six\r\n\nsev", "one\ntwo\nthree\nfour\nfi\nsix\r\n"},
	}
	for _, s := range steps {
		mustWrite(t, w, s.write)
		if got := active(t, dir); got != s.file {
			t.Fatalf("after Write(%q) the file holds %q, want %q", s.write, got, s.file)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "one\ntwo\nthree\nfour\nfi\nsix\r\nsev\n"
	if got := active(t, dir); got != want {
		t.Fatalf("after Close the file holds %q, want %q", got, want)
	}
	if got := c.Stats().Logs["app.log"].Records; got != 7 {
		t.Errorf("Records = %d, want 7 (one per line)", got)
	}
}

func TestLogWriterKeepsNoCallerMemory(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	// The caller may reuse p once Write returns (log.Logger does): what
	// is held of it must be a copy, on every path.
	buf := make([]byte, 0, 2*logging.MaxLine)
	for _, p := range []string{"z\na", "b\nc", "\n\nd", strings.Repeat("e", logging.MaxLine)} {
		buf = append(buf[:0], p...)
		if n, err := w.Write(buf); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		for i := range buf {
			buf[i] = '#'
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "z\nab\nc\nd" + strings.Repeat("e", logging.MaxLine-1) + "\ne\n"
	if got := active(t, dir); got != want {
		t.Errorf("file holds %.60q…, want %.60q…", got, want)
	}
}

func TestLogWriterRoll(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	l := log.New(w, "", 0)
	l.Print("before the roll")
	mustWrite(t, w, "half ")
	rolled, err := c.Roll("app.log")
	if err != nil || len(rolled) != 1 {
		t.Fatalf("Roll = %v, %v; want one file", rolled, err)
	}
	mustWrite(t, w, "a line\n")
	l.Print("after the roll")
	data, err := os.ReadFile(rolled[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "before the roll\n" || rolled[0].Records != 1 {
		t.Errorf("rolled file %s holds %q (%d records), want the line written before the roll", rolled[0].Path, data, rolled[0].Records)
	}
	if got, want := active(t, dir), "half a line\nafter the roll\n"; got != want {
		t.Errorf("active file holds %q, want %q", got, want)
	}
}

func TestLogWriterLongLines(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	long := strings.Repeat("x", logging.MaxLine)
	// A partial line is held up to MaxLine bytes, and cut once it grows
	// past: the first MaxLine bytes go, the rest stays held.
	mustWrite(t, w, long)
	if got := active(t, dir); got != "" {
		t.Fatalf("a partial line of MaxLine bytes was written: %d bytes", len(got))
	}
	mustWrite(t, w, "yz")
	if got := active(t, dir); got != long+"\n" {
		t.Fatalf("after the partial line grew past MaxLine the file holds %d bytes, want its first MaxLine bytes and a newline", len(got))
	}
	mustWrite(t, w, "\n")
	// A whole line is cut too, never inside a UTF-8 sequence: "é" is two
	// bytes, and MaxLine is even, so one byte of x shifts every cut.
	text := "x" + strings.Repeat("é", logging.MaxLine)
	mustWrite(t, w, text+"\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(active(t, dir), "\n"), "\n")
	if lines[0] != long || lines[1] != "yz" {
		t.Fatalf("the first lines are %d and %q bytes, want MaxLine and \"yz\"", len(lines[0]), lines[1])
	}
	pieces := lines[2:]
	if got := strings.Join(pieces, ""); got != text {
		t.Fatalf("the cut line does not join back into what was written (%d pieces)", len(pieces))
	}
	for i, p := range pieces {
		if len(p) > logging.MaxLine || !utf8.ValidString(p) || (i < len(pieces)-1 && len(p) < logging.MaxLine-3) {
			t.Errorf("piece %d: %d bytes, valid UTF-8 %v; want at most MaxLine, cut at most 3 bytes early, valid", i, len(p), utf8.ValidString(p))
		}
	}
}

func TestLogWriterLongPartialAfterHeld(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	// A held partial line completed by a long one, in one Write with more
	// lines and a long tail.
	mustWrite(t, w, "ab")
	long := strings.Repeat("y", logging.MaxLine)
	mustWrite(t, w, long+"\nc\n"+long+long+"z")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "ab" + long[:logging.MaxLine-2] + "\nyy\nc\n" + long + "\n" + long + "\nz\n"
	if got := active(t, dir); got != want {
		t.Errorf("file holds %d bytes, want %d (the lines cut at MaxLine)", len(got), len(want))
	}
}

func TestLogWriterConcurrent(t *testing.T) {
	c, dir := openApp(t)
	shared := appWriter(t, c)
	const goroutines, lines = 8, 200
	own := make([]*logging.LogWriter, goroutines)
	for g := range own {
		own[g] = appWriter(t, c)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			// Half share one writer through a log.Logger (whole lines),
			// half write pieces of lines through a writer of their own.
			if g%2 == 0 {
				l := log.New(shared, "", 0)
				for i := range lines {
					l.Printf("g%d line %d", g, i)
				}
				return
			}
			w := own[g]
			for i := range lines {
				fmt.Fprintf(w, "g%d ", g)
				fmt.Fprintf(w, "line %d\ng%d", i, g)
				fmt.Fprintf(w, " line %d\n", i)
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := shared.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(active(t, dir), "\n"), "\n")
	var want []string
	for g := range goroutines {
		for i := range lines {
			want = append(want, fmt.Sprintf("g%d line %d", g, i))
			if g%2 == 1 {
				want = append(want, fmt.Sprintf("g%d line %d", g, i))
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the file holds %d lines, want %d, each whole", len(got), len(want))
	}
}

func TestLogWriterRefused(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	mustWrite(t, w, "held ")
	c.SetAccepting(false, "disk full")
	// A partial line is still taken; a line is refused, and nothing of
	// the call is kept. (A writer without a partial line takes its whole
	// lines as they are: the other path.)
	mustWrite(t, w, "part ")
	fresh := appWriter(t, c)
	for _, p := range []string{"one\ntwo", "\n", strings.Repeat("x", logging.MaxLine), "fresh\n"} {
		to := w
		if strings.HasPrefix(p, "fresh") {
			to = fresh
		}
		n, err := io.WriteString(to, p)
		var se *logging.SpaceError
		if n != 0 || !errors.Is(err, logging.ErrSpaceExhausted) || !errors.As(err, &se) || se.Reason != "disk full" {
			t.Errorf("refused Write(%.10q) = %d, %v; want 0 and a *SpaceError", p, n, err)
		}
	}
	if got := active(t, dir); got != "" {
		t.Fatalf("refused writes left %q", got)
	}
	// The same bytes again once writing resumes: the retry the io.Writer
	// contract asks for.
	c.SetAccepting(true, "")
	mustWrite(t, w, "one\ntwo")
	if got, want := active(t, dir), "held part one\n"; got != want {
		t.Fatalf("after the retry the file holds %q, want %q", got, want)
	}
	c.SetAccepting(false, "disk full")
	if err := w.Close(); !errors.Is(err, logging.ErrSpaceExhausted) {
		t.Errorf("Close with the space exhausted = %v, want the refusal", err)
	}
	if got, want := active(t, dir), "held part one\n"; got != want {
		t.Errorf("a refused Close wrote %q, want %q", got, want)
	}
}

func TestLogWriterClose(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	mustWrite(t, w, "last words")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := active(t, dir); got != "last words\n" {
		t.Fatalf("Close wrote %q, want the partial line and a newline", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if n, err := w.Write([]byte("late\n")); n != 0 || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Write after Close = %d, %v; want 0 and fs.ErrClosed", n, err)
	}
	// The collator stays open, and a new writer works.
	mustWrite(t, appWriter(t, c), "again\n")
	if err := c.Write("app.log", [][]byte{[]byte("direct")}); err != nil {
		t.Fatal(err)
	}
	if got := active(t, dir); got != "last words\nagain\ndirect\n" {
		t.Errorf("file holds %q", got)
	}
	// An empty Close writes nothing.
	if err := appWriter(t, c).Close(); err != nil || active(t, dir) != "last words\nagain\ndirect\n" {
		t.Errorf("Close of an unused writer = %v, file %q", err, active(t, dir))
	}
}

func TestLogWriterErrors(t *testing.T) {
	c, dir := openApp(t)
	if _, err := c.Writer("other.log"); !errors.Is(err, logging.ErrUnknownLog) {
		t.Errorf("Writer of an undeclared log = %v, want ErrUnknownLog", err)
	}
	w := appWriter(t, c)
	mustWrite(t, w, "kept")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("x\n")); n != 0 || !errors.Is(err, logging.ErrClosed) {
		t.Errorf("Write after the collator's Close = %d, %v; want 0 and ErrClosed", n, err)
	}
	if err := w.Close(); !errors.Is(err, logging.ErrClosed) {
		t.Errorf("Close after the collator's = %v, want ErrClosed", err)
	}
	if got := active(t, dir); got != "" {
		t.Errorf("file holds %q after the collator closed", got)
	}
}

func TestLogWriterSlog(t *testing.T) {
	c, dir := openApp(t)
	w := appWriter(t, c)
	logger := slog.New(slog.NewJSONHandler(w, nil))
	logger.Info("started", "port", 8080)
	logger.Warn("multi\nline message")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(active(t, dir), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg":"started","port":8080`) || !bytes.Contains([]byte(lines[1]), []byte(`"msg":"multi\nline message"`)) {
		t.Errorf("file holds %q, want two JSON lines", lines)
	}
}

// TestLogWriterAsDefault follows the README: a program makes app.log its
// default logger and leaves Options.Logger unset. The collator's own lines
// (a roll's "rolled") must not land in the file, nor in a partial line.
// Not parallel: it sets slog's default.
func TestLogWriterAsDefault(t *testing.T) {
	dir := t.TempDir()
	c, err := logging.Open(logging.Config{
		Dir:        dir,
		Hostname:   "web01",
		Durability: logging.DurabilityWrite,
		Logs:       []logging.LogConfig{{Name: "app.log"}},
	}, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stuck := false
	defer func() {
		if !stuck { // Close would wait for the deadlocked writer too
			c.Close()
		}
	}()
	w := appWriter(t, c)
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(w, nil)))
	defer slog.SetDefault(old)
	slog.Info("before the roll")
	if _, err := io.WriteString(w, "partial"); err != nil {
		t.Fatal(err)
	}
	rolled := make(chan error, 1)
	go func() { _, err := c.Roll("app.log"); rolled <- err }()
	select {
	case err := <-rolled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		stuck = true
		t.Fatal("Roll did not return in 10 s: the collator logged into its own log (a deadlock)")
	}
	slog.SetDefault(old)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "app.log") {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			all.Write(data)
		}
	}
	if got := all.String(); strings.Contains(got, "rolled") || !strings.Contains(got, "partial\n") {
		t.Errorf("the log's files hold %q: the collator's own lines or a broken partial line", got)
	}
}
