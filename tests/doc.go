// Package tests holds logroll's end-to-end tests: they build the real
// binaries, run them as an operator, a shipper and a cron script would, and
// check what lands on disk (docs/design.md §2–§5).
//
// TestMain builds cmd/logrolld and cmd/logrollctl once, with
//
//	go build -o TMPDIR/ ./cmd/logrolld ./cmd/logrollctl
//
// run from the module root (found by walking up from the test's working
// directory to logroll's go.mod). Each test then writes its own records.toml
// in a short temporary folder (Unix socket paths must stay under 108 bytes),
// starts one or more logrolld processes on it with http_listen
// "127.0.0.1:0", reads the ingest address and the admin socket from the
// daemon's start-up lines on stderr, and talks to it over loopback HTTP and
// through logrollctl. Every daemon is killed (SIGKILL if still running) when
// its test ends, and its folder removed.
//
// What the tests cover:
//
//   - ingest_test.go: every body kind (text, NDJSON, a JSON object, a JSON
//     array, gzip) lands in the file exactly, JSON compacted with its key
//     order and string bytes kept; `logrollctl roll` prints one absolute
//     path whose name has the documented shape, and nothing when there is
//     nothing to roll; every ingest error status (400, 404, 405, 413, 415)
//     writes nothing; /healthz.
//   - reload_test.go: `config reload` applied (a changed record, a new log
//     that 404'd before), refused (an unknown key, a wrong type: exit 1,
//     problems as records.toml:LINE:COL, the old configuration keeps
//     running), and a SIGHUP reload that removes a log (which is rolled).
//   - socket_test.go: the admin socket's mode is 0600; a second daemon on the
//     same socket or the same log folder exits 1 and the first keeps
//     working; a stale socket left by a killed daemon is replaced.
//   - stop_test.go: SIGTERM while four clients post numbered records and
//     logs roll on size and by force: exit 0 within 5 s, every acknowledged
//     record on disk exactly once, every request all-or-nothing, no torn
//     line, rolled files that never overlap in time.
//   - rolling_test.go: a time roll every 2 s without logrollctl, END on
//     the boundary; external rotation: records follow the moved file until
//     SIGUSR2, then go to a new active file.
//   - ctl_test.go: --json output of roll, rolled, status, metric get and
//     config status decodes into the ctl types; logrollctl's exit codes
//     (0, 1, 2, 3); records_written and bytes_written through `metric get`
//     and Prometheus /metrics.
//   - space_test.go (docs/design.md §6): 40 MiB into a 12 MiB budget with autodelete:
//     every request 200, the folder (sampled like du) never over the budget,
//     the newest records kept contiguous, deletions counted and no more than
//     needed, status used_bytes equal to the folder; two logs with
//     rolling_min_count 5 and 1: only the second loses files; autodelete off:
//     503 with Retry-After, no acknowledged record lost, resume within about
//     a second of a script deleting the rolled files, or of a reload raising
//     the limit; as root, an 8 MiB tmpfs as the log folder filled by the
//     partition rather than the budget, with and without autodelete (skipped
//     when not root or when the mount fails); while logging is stopped,
//     every 503 and status quote today's figures and what it takes to resume
//     (TestSpaceExhaustedSaysTodaysFigures).
//   - badinput_test.go (docs/reliability.md "Bad input"): truncated and
//     invalid JSON, invalid UTF-8, broken gzip, 10 MB lines and bodies over
//     the limit, lying HTTP framing, log names with '/', "..", leading dots,
//     NUL and percent-encodings: each its status, the log folder and the
//     write counters unchanged; peak RSS (VmHWM) bounded for gzip bombs,
//     endless bodies and 10 MB lines; slow clients (header timeout, a slow
//     body cut by the stop timeout; about 14 s); 600 stalled connections.
//   - badconfig_test.go ("Bad configuration"): a table of invalid
//     records.toml, refused at start (exit 2), by config check (exit 1) and
//     on reload by logrollctl and SIGHUP with FILE:LINE:COL, the running
//     configuration kept; what is in the folders (an active file that is a
//     folder or a link, a file where the socket goes…) found by config
//     check and start alike. ats_test.go: values adjusted as Traffic
//     Server does, with warnings.
//   - cli_test.go: -h, -version and usage errors of both tools; --json
//     printing exactly one document in every outcome.
//   - metrics_doc_test.go: docs/daemon.md's metrics table equal to what
//     /metrics and logrollctl metric serve; promtool check metrics (skipped
//     with a message when promtool is missing; .ci/run installs it).
//   - surface_test.go ("Attack surface"): the admin socket's mode and
//     owner (and, as root, another user refused), every path and method on
//     the ingest port changing nothing, loopback by default, logfile_perm
//     under any umask, symlinks planted at the active path.
//   - syslogng_test.go (docs/shippers.md): Debian's syslog-ng, started with
//     etc/shippers/syslog-ng.conf, delivers 10,000 messages from 4 senders
//     once each and in order per sender, also through a 503 period of
//     exhausted space (skipped with a message when syslog-ng is missing;
//     .ci/run installs it). eco_curl_test.go: etc/shippers/curl-ship.sh the
//     same way, plain and gzip.
//   - syslog_test.go (docs/syslog.md): util-linux logger over TCP
//     (newline and octet-counted) and UDP, RFC 5424 and RFC 3164, routed by
//     app name and facility, each message once and as sent; every kind of
//     malformed syslog refused and counted by reason with nothing written;
//     200 hostile connections with goroutines and VmHWM bounded and the
//     257th refused; a UDP flood while the space is exhausted, where
//     written + dropped (the kernel's count) equals sent.
//     syslogng_net_test.go: syslog-ng's syslog() and network() destinations
//     (etc/shippers/syslog-ng-network.conf), 10,000 messages in order per
//     sender, through a period of exhausted space (logrolld stops reading,
//     syslog-ng's flow control holds).
//   - pipe_test.go (docs/pipe.md): a shell loop writing 20,000 lines into
//     `logrollctl pipe` through a 503 period and a SIGTERM + restart of
//     logrolld, every line once and in order; with no daemon, the pipe
//     reads 16 MiB and blocks its writer, then delivers all once one starts.
//   - tls_test.go (docs/security.md): TLS and bearer tokens on the ingest
//     port: 401/403 JSON refusals with nothing written, plain HTTP refused,
//     mutual TLS refusing no, foreign and expired client certificates,
//     certificate and tokens reloaded without a restart (a mismatched key
//     refused, the old pair kept), bad files refusing the start, 300
//     stalled handshakes bounded and cut at 10 s; curl-ship.sh over mutual
//     TLS with a token. syslogng_tls_test.go: syslog-ng's http() over
//     mutual TLS with a token (etc/shippers/syslog-ng-tls.conf).
//   - adminhttp_test.go: the remote admin listener over TLS with an
//     admin token: roll (POST, and GET with curl), rolled and status
//     limited to the token's logs; no token, a non-admin token, another
//     log, and every other endpoint refused.
//   - cron_test.go: etc/cron/process-rolled.sh run again and again against a
//     live daemon while records arrive and logs roll every second: per-status
//     totals equal to what was acknowledged, nothing processed twice (a run
//     killed in the middle, two runs at once), active files untouched; with
//     and without jq; a -x command told the rolled name, and the gzip
//     archive recipe. eco_files_test.go: the crontab line, the systemd unit
//     (systemd-analyze verify when present) and the shipper recipes' markers.
//   - crash_test.go (docs/reliability.md "Crash"): SIGKILL under load at 8
//     kill points (during a group write, at a roll's rename, while the new
//     .meta is written…) at each durability level, then restart and roll:
//     every acknowledged record on disk exactly once, no torn line, START
//     from .meta, no .meta temporary left.
//   - stop_test.go also: a request mid-body at SIGTERM answered 200 and on
//     disk, a new one during the drain answered 503 with Retry-After, a
//     stalled one cut at the 4 s stop timeout having written nothing (and
//     counted in the warning), a second SIGTERM exiting at once.
//   - faults_test.go ("Disk faults"): a full filesystem (tmpfs), an
//     unwritable active file, a read-only folder (bind mount), failing
//     renames (chattr +i), the active file deleted or moved, the folder
//     deleted (and then locked and watched again once recreated): the
//     daemon keeps running, says so once, counts it, answers
//     5xx with nothing written, and recovers by itself when the fault goes
//     away. The root-only cases skip with a message otherwise.
//   - soak_test.go ("Soak"): 60 s of load with a roll every second and
//     autodelete: descriptors, goroutines and RSS flat, every acknowledged
//     request either on disk once or counted in autodeleted_bytes.
//   - datasafety_test.go (issue 17, data safety): ten starts on a folder
//     whose active file is 48 h old with rolling_max_count = 1 (no panic,
//     the catch-up roll's file kept, deletions logged with rule=max_count);
//     a refused reload (budget lowered, a log whose path is a folder)
//     deletes and creates nothing; a budget below the headroom refused by
//     config check, at start and on reload; START after a restart under
//     another TZ, and after the log folder was moved away and recreated,
//     never after the first record; rolled names never reused, within a
//     second or across a restart. datasafety_dst_test.go: a zone compiled
//     with zic whose clocks go back shortly after the test starts
//     (TZ=/path): across the jump, rolling_max_count and the budget delete
//     only the oldest files by their records, names are never given to two
//     files, `rolled --json` lists files in record order, and a restart in
//     the repeated time gives no START in the future (about 55 s, the two
//     tests in parallel). datasafety_space_test.go (root, tmpfs): a
//     partition smaller than the default headroom keeps rolled files while
//     it has room and says why in status; a folder out of inodes answers
//     200 or 503 with Retry-After, never 500, says so in status, and
//     autodelete frees inodes.
//   - compress_test.go, compress_crash_test.go, compress_faults_test.go
//     (docs/design.md §10, issue 19): every storage record — zstd into a
//     relative rolled_dir, gzip at levels 1 and 9, an absolute rolled_dir,
//     plain files into a rolled folder — with the stock gzip and zstd
//     commands reading back exactly what was posted, END as the modification
//     time, and rolled --json, status --json, config describe and the
//     metrics saying the same, across a restart; kill -9 at five steps of a
//     compression (gzip and zstd) with every record once in one visible
//     file and nothing hidden left; a full tmpfs during a compression (root:
//     retried, then published plain); reloads of compression and rolled_dir
//     with files in flight; rolled folders and compressions refused at
//     start and on reload at FILE:LINE:COL. cron_test.go runs the cron
//     script on compressed files in a rolled folder too.
//   - retention_test.go (issue 19, docs/space.md "Retention and
//     autodelete"): rolling_max_age_sec deletes each file when its END is
//     that old, never before and within 1.5 s after, with nothing else
//     happening (a timer, not the hourly scan), by the END in the name when
//     the modification time is not the END (touched, copied without its
//     times); rolling_max_total_mb keeps the newest files within the total
//     after each roll and after a reload, and a total that one size roll
//     fills is refused; deletions logged with their rule and counted.
//     retention_dst_test.go: both rules across a fall-back in zic zones
//     keep the newest records, and files rolled after the jump live their
//     full age (about 45 s). calendar_test.go: weekly and monthly rolling
//     in zic zones whose date reaches a Monday or a 1st at
//     rolling_offset_hr a few seconds after the start (offsets of days),
//     jumps over it or goes back across it, and a catch-up roll after a
//     restart (about 40 s, the cases in parallel).
//
// Run them with
//
//	go test -race -count=1 ./tests/
//
// The whole package takes about three and a half minutes with -race on the
// 2-core CI machine: the soak alone is 60 s, the daylight-saving tests
// about 55 s (run in parallel at the end: they mostly wait for the clocks
// to go back), the crash tests 9 s, the slow client tests 14 s, the space
// tests about 15 s. Set
// LOGROLL_E2E_RACE=1 to build the binaries with -race too, so that a data
// race in the daemon makes it crash with a report on its stderr, which a
// failing test prints.
package tests
