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
//     .ci/run installs it). curl_test.go: etc/shippers/curl-ship.sh the
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
//     archive recipe. etcfiles_test.go: the crontab line, the systemd unit
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
//   - soak_test.go ("Running for long"): 60 s of load with a roll every second and
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
// # How the reliability tests work
//
// docs/reliability.md states what logroll guarantees and names the tests
// that check it; this is how those tests go about it.
//
// Crash (TestKill9UnderLoad, about 3 s per durability level). Four clients
// post batches of 50 unique records (about 11.5 KiB a request) while the
// log rolls at 1 MiB; the test kills the daemon with SIGKILL, restarts it on
// the same folder, and does it again at the next kill point:
//
//  1. after 1,500 acknowledged records (in the middle of group writes);
//  2. after 1,500 records in a file started in a later second than the
//     previous END, with its mtime then moved an hour back and the restart
//     in a later second still, so that a START taken from the latest END,
//     the mtime or the clock would differ from the .meta's;
//  3. 50 ms into the load;
//  4. at a size roll's rename (the test watches the folder with inotify and
//     kills on the event, about 0.1 ms later: inside the roll sequence,
//     whose rename is followed by a folder fsync, the new active file and
//     its .meta);
//  5. during a forced roll (logrollctl roll running, killed at its rename);
//  6. at the new active file's .meta's first write event after the roll's
//     rename;
//  7. right after logrollctl roll returned;
//  8. at the first write into a new active file.
//
// After the last restart a final load runs and the daemon is stopped with
// SIGTERM. Then, over every file: every acknowledged record exactly once and
// each client's in order; each unanswered request's records at most once and
// only a prefix of them; whole lines and a final newline everywhere (a torn
// tail, when a kill lands inside a writev, is cut at the restart, which says
// so: checked whenever one is seen — about one kill in a hundred); rolled
// files not overlapping in time; the START of the file continued after each
// restart (rolled at once by logrollctl roll before anything is written)
// equal to the .meta's, raised to the latest rolled END; no temporary .meta
// left. TestKill9DuringCompression (gzip and zstd, about 1.5 s each) does
// the same while the log rolls at 1 MiB into a rolled folder, killing on the
// folder's inotify events: when the raw file appears, when the temporary is
// created, while it is written, when the final file appears and when the
// raw file is removed; every compressed file is read back with klauspost's
// readers and with the stock gzip -d and zstd -d, which must agree.
//
// Compression faults. TestCompressionFullDisk (root, a 24 MiB tmpfs, about
// 9 s) forces a roll of 2.2 MiB of barely compressible records while a
// filler leaves 128 KiB free: the compression fails with ENOSPC and
// logrollctl roll waits; once the filler is removed the next attempt
// compresses the file and roll prints the .old.zst path, which zstd -d reads
// back byte-identical; when the space never comes back, the file is
// published uncompressed after the fourth attempt. TestReloadStorageInFlight
// makes five reloads of rolled_compression and rolled_dir (gzip, zstd, none;
// the log folder, archive, b/other) while four clients post and the log
// rolls on size, with a forced roll after each reload.
//
// Graceful stop. TestSIGTERMUnderLoad (0.5 s): four clients post while the
// log rolls on size and by force; SIGTERM after 20,000 acknowledged records
// must give exit 0 within 5 s (typically 10–30 ms), no roll after the
// signal, every acknowledged record once, each request all or nothing,
// every refusal a 503 or 429 with Retry-After. TestSIGTERMInFlight (4 s: it
// waits for the stop timeout) takes three requests to the moment of the
// signal by hand: one that has sent its headers and half its body sends the
// rest after the stop began; one stalls in its body; one has sent part of
// its headers; a new connection comes during the drain (the listener stays
// open while requests are in flight) and one after the exit. The stop
// timeout's log line must count the request still in flight.
// TestSecondSIGTERMExitsAtOnce (0.1 s) sends a second SIGTERM during the
// stop.
//
// Disk faults (faults_test.go). Each test makes the disk fail under the
// daemon while two clients post (a 50-record request every 20 ms each),
// then takes the fault away. It counts the fault's lines in the daemon's
// stderr, so that a message per request or per record fails it, reads the
// metrics, and checks that records posted after the fault cleared land on
// disk without anyone restarting or signalling the daemon. The faults are a
// 4 MiB tmpfs filled by another file (503 came 21–52 ms after the fill,
// logging resumed 0.6 s after its removal), chattr +i on the active file
// standing in for EIO, a read-only bind mount of the log folder on itself,
// chattr +i on the folder with time rolls every second (the pending roll
// was retried 1.0 s after the fault cleared), and the active file or the
// folder deleted, moved or replaced. In the deletion, move and folder tests
// the fault is made between two loads (nothing in flight), so that the test
// knows which acknowledged records were in the file it took away; it keeps
// a copy (or the moved file) and counts them there. The root-only faults
// skip with a message otherwise.
//
// Data safety (datasafety*_test.go, retention*_test.go).
// TestStartCatchUpMaxCount starts the daemon ten times with a catch-up roll
// and rolling_max_count = 1. TestDSTFallBackKeepsNewest compiles a zone with
// zic whose clocks go back while the daemon rolls every 2 s.
// TestPartitionBelowHeadroomKeepsRolled uses a 16 MiB tmpfs with the default
// 1,000 MiB headroom, TestInodeExhaustion a tmpfs with nr_inodes=8.
// TestRolledNamesNeverReused posts, rolls and deletes three times within a
// second, and across a restart. TestRetentionMaxAgeOnTime checks that each
// file is deleted at the instant its END is rolling_max_age_sec old, never
// before, with no other event.
//
// Soak (TestSoak, 61 s). Four clients post 50-record requests (about 150
// requests and 1.5 MB a second, 450,000 records in all), the log rolls on
// time every second and at 1 MiB, logrollctl roll runs every second,
// autodelete keeps the folder within an 8 MiB budget (2 MiB headroom: some
// 115–170 files deleted per run), and the folder is rescanned every 5 s. The
// test looks at the daemon after a 10 s warm-up and every 10 s after: file
// descriptors (/proc/PID/fd), goroutines (go_goroutines on /metrics), VmRSS
// and the Go heap in use, each look keeping the fewest descriptors and
// goroutines of five looks 100 ms apart, so that a logrollctl connection or
// a request in flight is not taken for a leak. At the end it allows at most
// 2 descriptors and 5 goroutines more than after the warm-up (anything kept
// per roll, per deletion or per request would exceed that many times over),
// and RSS at most 8 MiB or a quarter above its warm-up value, whichever is
// larger (the looks vary by about 1 MiB; the margin still catches a leak of
// about 1.2 KiB per request or 60 KiB per roll). Then the folder is read in
// one consistent state (listed again after the reading, read again if
// anything changed): files never overlap in time and autodelete deletes the
// oldest first, so what it deleted is, for each client, a prefix of its
// requests; the test checks that each client's acknowledged requests on
// disk are exactly its last ones, each whole and once, and that the bytes
// of the others equal autodeleted_bytes exactly — which also equals the sum
// of the bytes= of the daemon's one log line per deletion, whose count
// equals autodeleted_files. LOGROLL_SOAK_SECONDS runs it longer.
//
// Bad input (badinput_test.go, budget_test.go, tinyrecords_test.go). Every
// request of TestBadInputWritesNothing is checked by listing the log folder
// (names, sizes, modes) before and after and comparing the write counters
// (records_written, bytes_written, write_calls, ingest.records_accepted).
// TestBadInputMemoryBounded (max_body_mb 16) sends, one at a time, what
// could make the daemon hold much memory, and reads its VmHWM after each.
// TestIngestTinyRecordsMemory posts 16 MiB bodies of one- and two-byte
// records to a fresh daemon each, checks the answer, the record count and
// the file byte for byte, and asserts the bound over the VmHWM after a first
// small request (a cost of even 8 bytes per record would fail it).
// TestIngestMemoryBudget (about 2 s) stalls two 12 MiB bodies after 9 MiB
// each (the gauge reaches 24 MiB) and posts a 10 MiB body, which gets 429;
// one stalled request then completes, the other gives up, the gauge returns
// to 0 and the retry gets 200; the file holds the completed request's
// records and then the retry's, each once. TestBadInputSlowClients (about
// 14 s) sends one byte a second: the header-trickling connection is closed
// at 10.0 s; the body-trickling one is still being read when the test stops
// the daemon, whose 4 s stop timeout cuts it; normal posts are answered
// meanwhile (the 60 s body timeout itself is ingest.TestSlowBody's, with a
// 100 ms ReadTimeout). TestBadInputManyConnections opens 500 connections
// that do nothing useful (200 idle, 150 with half a request line, 118 with
// headers never finished, 32 stalled in their bodies), then 100 more
// stalled bodies.
//
// Bad configuration. The table of badconfig_test.go has 34 invalid files:
// syntax errors (an unclosed string or table header, a value with a unit, a
// key defined twice, an integer over int64), unknown keys (with "did you
// mean", a record in the wrong table, a quoted dotted key, an unknown table,
// an unknown key in [[logs]]), wrong types, out-of-range values, bad logs
// (two names for one file, ../access, .access, access.old, no filename, a
// global record in a log), three problems in one file, logfile_dir or
// local_state_dir pointing at a file or below one, and a local_state_dir too
// long for the socket path. TestBadConfigReload checks that config get
// still shows the running values of eight records after each refusal.
// TestRolledDirRefused adds rolled folders that are not writable (root: a
// read-only bind mount) or on another filesystem (root: a tmpfs).
//
// Attack surface (surface_test.go). As root, with every folder above the
// admin socket made traversable, a connection with the file-system uid of
// nobody is refused (EACCES) and succeeds once the socket's mode is opened
// to 0666 as a control. TestSurfaceIngestChangesNothing sends GET, HEAD,
// POST, PUT, DELETE, PATCH, OPTIONS, TRACE and an invented ROLL to 43 paths,
// plus CONNECT and OPTIONS *, and checks that nothing rolled or reloaded and
// the log folder is unchanged. TestSurfaceIngestLoopback reads the daemon's
// sockets from /proc/PID/net (skipped when port 8480 is taken).
// TestSurfaceFilePerm runs under umask 000 with rw-r-----, 027 with
// rw-rw-r-- and 022 with 0600. TestSurfaceSymlinkPlanted plants links to a
// victim file outside the log folder, which must keep its content, mtime
// and mode.
//
// # What the tests found
//
// Each of these was a bug when its test was written; the test now guards
// the fix.
//
//   - A kill while a .meta was written through a temporary file left that
//     file for ever, one more per such crash, counted in the used space and
//     never deleted (kill point 6; logging.TestRestartRemovesMetaTemps).
//   - A partition filled by another program went unnoticed while the space
//     state was normal: failed writes reported no bytes, the estimate still
//     showed room, and every request got 500 without Retry-After until the
//     next scan. The collator reports failed writes (OnWriteError) and the
//     space manager samples at once (TestFaultFullFilesystem).
//   - Ingest logged a warning for every request it answered 500: thousands
//     of lines a second on a full disk (ingest.TestServeLogs).
//   - A roll of an active file moved away failed with ENOENT and a time or
//     size roll was retried for ever (TestFaultActiveFileMoved).
//   - A removed log folder was never created again; once it was, it was
//     neither locked nor watched (TestFaultFolderDeletedRelocked).
//   - A roll renamed a symlink planted at the active path into a .old name,
//     a rolled "file" pointing at the victim (TestSurfaceSymlinkPlanted).
//   - A regular file found at the active path made rolls fail until someone
//     removed it, while records went into the displaced file
//     (TestFaultActiveFileReplaced).
//   - Autodelete ordered two files rolled within one second and one clock
//     tick by name, so the newer ….1.old went before the older ….old
//     (space.TestPlan, found while working out the soak's accounting).
//   - A catch-up roll at start could call into a space manager that did not
//     exist yet (TestStartCatchUpMaxCount); START read from a rolled name
//     after a restart under another zone lay in the future
//     (TestRestartAfterZoneChangeStart); a refused reload had already
//     lowered the space limit (TestRefusedReloadChangesNothing).
//   - TOML syntax errors found at a newline had wrong positions
//     (records.TestSyntaxErrorPosition); a reload that changed logfile_dir
//     to a file was accepted and the restart then failed
//     (daemon.TestReloadRefusesFileAsFolder).
//   - FuzzDecompress found that a whole gzip member followed by a second one
//     cut inside its file name or comment was accepted with a 200
//     (ingest.TestDecompressMembers, the corpus entry
//     second_member_cut_in_comment, and the case "gzip next member cut in
//     its name" of TestBadInputWritesNothing).
//   - The active file lost the umask's bits while its .meta did not
//     (TestSurfaceFilePerm).
//   - The stop timeout's warning counted the requests in flight after their
//     connections were closed, and read 0 (TestSIGTERMInFlight).
//
// # Running them
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
