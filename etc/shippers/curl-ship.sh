#!/bin/sh
# curl-ship.sh: send text lines to logroll with plain curl, in batches.
#
# usage: curl-ship.sh URL [FILE...]      (standard input when no FILE)
#        URL is the log's ingest address, e.g. http://127.0.0.1:8480/v1/logs/access
#
# Environment: LOGROLL_BATCH_LINES (lines per request, default 5000; keep a
# batch under logroll's max_body_mb, 16 MiB by default), LOGROLL_GZIP=1 to
# compress each batch (Content-Encoding: gzip), CURL (default curl).
#
# Across the network (docs/security.md): an https:// URL, and
#   LOGROLL_TOKEN_FILE  a file holding the bearer token (or LOGROLL_TOKEN,
#                       the token itself); sent as "Authorization: Bearer"
#                       from a header file, never on curl's command line
#   LOGROLL_CACERT      the CA that signed logrolld's certificate (--cacert;
#                       default: the system's CAs)
#   LOGROLL_CERT, LOGROLL_KEY   a client certificate and its key, when
#                       logrolld asks for one (tls_client_ca_file)
# A 401 (no or unknown token) or 403 (the token may not write that log) is
# never retried: fix the token or the tokens file.
#
# TESTED: tests/curl_test.go ships 20,000 lines through this script,
# plain and gzip, the second time while the daemon's log space is exhausted
# (503) until a script frees it: every line arrives once and in order;
# tests/tls_test.go ships them over TLS with a token and a client
# certificate.
#
# Retries. curl --retry retries what it calls transient errors: a timeout
# and the HTTP answers 408, 429, 500, 502, 503 and 504, waiting what
# Retry-After asks (logroll sends 1 s) or else backing off from 1 s, doubling
# up to 10 minutes (https://everything.curl.dev/usingcurl/downloads/retry;
# curl(1), --retry). Those are the answers logroll gives when a retry can
# succeed (429 queue full, 503 space exhausted or stopping, 500 write
# failed), and a refused request wrote nothing, so a retry never duplicates.
# --retry-connrefused also waits for a daemon being restarted. --fail makes
# the other answers (400 malformed, 404 log not declared, 413 too large,
# 415 bad type) an error: the script stops there, with curl's exit status
# 22, and the batches before it are in the log. A request that times out
# (--max-time) after logroll wrote it would be sent twice: the one case of a
# duplicate.
#
# Lines must be UTF-8 without NUL bytes (logroll refuses the whole batch
# otherwise); empty lines are skipped by logroll.
set -eu

if [ $# -lt 1 ]; then
	echo "usage: curl-ship.sh URL [FILE...]" >&2
	exit 2
fi
url=$1
shift
lines=${LOGROLL_BATCH_LINES:-5000}
curl=${CURL:-curl}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT TERM

# TLS and the token: curl options in "$@" (the inputs are read first).
auth=
if [ -n "${LOGROLL_TOKEN_FILE:-}" ]; then
	LOGROLL_TOKEN=$(cat -- "$LOGROLL_TOKEN_FILE")
fi
if [ -n "${LOGROLL_TOKEN:-}" ]; then
	(umask 077 && printf 'Authorization: Bearer %s\n' "$LOGROLL_TOKEN" >"$tmp/auth")
	auth=$tmp/auth
fi

# Numbered batches (batch.00000000, …) sort in the order of the input.
cat -- "$@" | split -d -a 8 -l "$lines" - "$tmp/batch."

for f in "$tmp"/batch.*; do
	[ -e "$f" ] || continue # no input
	encoding=
	if [ "${LOGROLL_GZIP:-0}" = 1 ]; then
		gzip -c -- "$f" >"$f.gz"
		f=$f.gz
		encoding='Content-Encoding: gzip'
	fi
	"$curl" --silent --show-error --fail \
		--retry 100000 --retry-connrefused --max-time 120 \
		-H 'Content-Type: text/plain; charset=utf-8' ${encoding:+-H "$encoding"} \
		${auth:+-H "@$auth"} \
		${LOGROLL_CACERT:+--cacert "$LOGROLL_CACERT"} \
		${LOGROLL_CERT:+--cert "$LOGROLL_CERT"} ${LOGROLL_KEY:+--key "$LOGROLL_KEY"} \
		--data-binary "@$f" -o /dev/null -- "$url"
done
