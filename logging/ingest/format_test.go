package ingest

import (
	"errors"
	"testing"
)

func TestFormatFor(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want Format
		err  string
	}{
		{ct: "", want: Text},
		{ct: "  ", want: Text},
		{ct: "text/plain", want: Text},
		{ct: "Text/Plain; charset=UTF-8", want: Text},
		{ct: "text/plain; charset=us-ascii", want: Text},
		{ct: `text/plain; charset="utf-8"; format=flowed`, want: Text},
		{ct: "application/x-ndjson", want: NDJSON},
		{ct: "application/ndjson", want: NDJSON},
		{ct: "application/jsonl", want: NDJSON},
		{ct: "application/x-jsonlines", want: NDJSON},
		{ct: "application/jsonlines; charset=utf-8", want: NDJSON},
		{ct: "application/json", want: JSON},
		{ct: "application/json; charset=UTF-8", want: JSON},
		{ct: "text/plain; charset=latin1", err: `unsupported content type "text/plain; charset=latin1": charset "latin1": only utf-8 or us-ascii text is accepted`},
		{ct: "application/json; charset=us-ascii", err: `unsupported content type "application/json; charset=us-ascii": charset "us-ascii": JSON must be utf-8`},
		{ct: "application/x-www-form-urlencoded", want: Text}, // curl -d
		{ct: "application/xml", err: `unsupported content type "application/xml": use text/plain, application/x-ndjson or application/json`},
		{ct: "text/html", err: `unsupported content type "text/html": use text/plain, application/x-ndjson or application/json`},
		{ct: "application/json;;", err: `unsupported content type "application/json;;": malformed: mime: invalid media parameter`},
		{ct: "/json", err: `unsupported content type "/json": malformed: mime: no media type`},
	} {
		t.Run(tc.ct, func(t *testing.T) {
			got, err := FormatFor(tc.ct)
			if tc.err != "" {
				var ue *UnsupportedError
				if !errors.As(err, &ue) || err.Error() != tc.err {
					t.Fatalf("FormatFor(%q) = %v, %v; want *UnsupportedError %q", tc.ct, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FormatFor(%q) = %v, %v; want %v", tc.ct, got, err, tc.want)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{Text: "text", NDJSON: "ndjson", JSON: "json", 7: "Format(7)"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

func TestEncodingFor(t *testing.T) {
	for _, tc := range []struct {
		ce   string
		want Encoding
		err  string
	}{
		{ce: "", want: Identity},
		{ce: "identity", want: Identity},
		{ce: "gzip", want: Gzip},
		{ce: " GZIP ", want: Gzip},
		{ce: "x-gzip", want: Gzip},
		{ce: "br", err: `unsupported content encoding "br": use gzip or none`},
		{ce: "gzip, gzip", err: `unsupported content encoding "gzip, gzip": use gzip or none`},
	} {
		got, err := EncodingFor(tc.ce)
		if tc.err != "" {
			var ue *UnsupportedError
			if !errors.As(err, &ue) || err.Error() != tc.err {
				t.Errorf("EncodingFor(%q) = %v, %v; want *UnsupportedError %q", tc.ce, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EncodingFor(%q) = %v, %v; want %v", tc.ce, got, err, tc.want)
		}
	}
}
