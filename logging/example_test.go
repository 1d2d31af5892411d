package logging_test

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/logroll/logroll/logging"
)

// Open a collator on a folder with one log, write lines to the log through
// its LogWriter, and roll it.
func Example() {
	dir, err := os.MkdirTemp("", "logging-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c, err := logging.Open(logging.Config{
		Dir:      dir, // the log folder, absolute
		Hostname: "web01",
		Logs: []logging.LogConfig{{
			Name:   "app.log",
			Policy: logging.Policy{Mode: logging.ModeSize, SizeBytes: 64 << 20},
		}},
	}, logging.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	w, err := c.Writer("app.log")
	if err != nil {
		log.Fatal(err)
	}
	logger := log.New(w, "", 0)
	logger.Print("first")
	logger.Print("second")

	// The log rolls when it reaches 64 MiB; Roll rolls it now, into
	// app.log.web01.<START>-<END>.old.
	rolled, err := c.Roll("app.log")
	if err != nil {
		log.Fatal(err)
	}
	r := rolled[0]
	name, err := logging.ParseRolledName(filepath.Base(r.Path), c.Logs(), "web01", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rolled %s of %s: %d records\n", name.Active, name.Host, r.Records)
	data, _ := os.ReadFile(r.Path)
	fmt.Print(string(data))

	logger.Print("third")
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "app.log"))
	fmt.Print("app.log: ", string(data))
	// Output:
	// rolled app.log of web01: 2 records
	// first
	// second
	// app.log: third
}

// A log as the output of a structured logger.
func ExampleCollator_Writer() {
	c, dir, done := openExample() // logging.Open on a new folder, as in the package's example
	defer done()

	w, err := c.Writer("app.log")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close() // before c.Close: deferred calls run last first

	logger := slog.New(slog.NewJSONHandler(w, nil))
	logger.Info("listening", "port", 8080)

	data, _ := os.ReadFile(filepath.Join(dir, "app.log"))
	var rec struct {
		Level, Msg string
		Port       int
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Level, rec.Msg, rec.Port)
	// Output: INFO listening 8080
}

// A partial line is held until its newline, or until Close.
func ExampleLogWriter_Close() {
	c, dir, done := openExample() // logging.Open on a new folder, as in the package's example
	defer done()
	w, err := c.Writer("app.log")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprint(w, "one\ntw")
	data, _ := os.ReadFile(filepath.Join(dir, "app.log"))
	fmt.Printf("%q\n", data)
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "app.log"))
	fmt.Printf("%q\n", data)
	// Output:
	// "one\n"
	// "one\ntw\n"
}

// openExample opens a collator on a new temporary folder with one log,
// app.log, that never rolls by itself; done closes it and removes the
// folder.
func openExample() (c *logging.Collator, dir string, done func()) {
	dir, err := os.MkdirTemp("", "logging-example")
	if err != nil {
		log.Fatal(err)
	}
	c, err = logging.Open(logging.Config{
		Dir:      dir,
		Hostname: "web01",
		Logs:     []logging.LogConfig{{Name: "app.log"}},
	}, logging.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return c, dir, func() {
		c.Close()
		os.RemoveAll(dir)
	}
}
