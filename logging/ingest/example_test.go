package ingest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/logroll/logroll/logging/ingest"
)

// Decode checks a body and lays out its records as the lines a log file
// gets: a text body's empty lines are skipped and a CR before the LF is
// dropped; a bad body is refused with its line and byte.
func ExampleDecode() {
	var recs ingest.Records
	if err := ingest.Decode(ingest.Text, []byte("GET /a 200\r\n\nGET /b 404\n"), &recs); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d records: %q\n", recs.Len(), recs.Block())

	err := ingest.Decode(ingest.Text, []byte("GET /a 200\nGET /\xff 404\n"), &recs)
	fmt.Println(err)
	// Output:
	// 2 records: "GET /a 200\nGET /b 404\n"
	// line 2, byte 16: invalid UTF-8 in text line
}

// printWriter is an ingest.Writer that prints what it is given.
type printWriter struct{}

func (printWriter) Write(log string, records [][]byte) error {
	for _, r := range records {
		fmt.Printf("%s: %s\n", log, r)
	}
	return nil
}

// A Server serves POST /v1/logs/{name} for any Writer (logrolld gives it
// its collator); the answer comes once the Writer has returned.
func ExampleNewServer() {
	srv := ingest.NewServer(printWriter{}, ingest.ServerConfig{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v1/logs/access", "text/plain", strings.NewReader("GET /a 200\nGET /b 404\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output:
	// access.log: GET /a 200
	// access.log: GET /b 404
	// 200 OK {"records":2}
}
