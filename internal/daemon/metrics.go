package daemon

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/logging/ingest"
	"github.com/logroll/logroll/logging/ingest/syslog"
	"github.com/logroll/logroll/space"
)

// Metric names (docs/design.md §7), Traffic Server style. Per-log series carry a
// "log" label; the unlabelled series of the same name is the sum over every
// log, including logs removed by a reload. docs/daemon.md lists them.
const (
	MetricRecordsWritten  = "proxy.process.log.records_written"
	MetricBytesWritten    = "proxy.process.log.bytes_written"
	MetricWriteCalls      = "proxy.process.log.write_calls"
	MetricWriteErrors     = "proxy.process.log.write_errors"
	MetricSyncs           = "proxy.process.log.syncs"
	MetricRolls           = "proxy.process.log.rolls"
	MetricRollFailures    = "proxy.process.log.roll_failures"
	MetricMaxCountDeleted = "proxy.process.log.max_count_deleted_files"
	MetricMaxCountBytes   = "proxy.process.log.max_count_deleted_bytes"
	MetricRecreated       = "proxy.process.log.active_files_recreated"
	MetricRollPauses      = "proxy.process.log.roll_pauses"
	MetricRollPauseSecs   = "proxy.process.log.roll_pause_seconds"
	MetricRollPauseMax    = "proxy.process.log.roll_pause_max_seconds"
	MetricActiveBytes     = "proxy.process.log.active_file_bytes"
	MetricCompressed      = "proxy.process.log.compressed_files"
	MetricCompressedIn    = "proxy.process.log.compressed_input_bytes"
	MetricCompressedOut   = "proxy.process.log.compressed_output_bytes"
	MetricCompressRatio   = "proxy.process.log.compression_ratio"
	MetricCompressSecs    = "proxy.process.log.compress_seconds"
	MetricCompressFailed  = "proxy.process.log.compress_failures"
	MetricCompressGaveUp  = "proxy.process.log.compress_uncompressed_files"
	MetricCompressPending = "proxy.process.log.compress_pending_files"
	MetricPublishPending  = "proxy.process.log.publish_pending_files"
	MetricOpenFiles       = "proxy.process.log.open_files"
	MetricAccepting       = "proxy.process.log.accepting"
	MetricRefusedWrites   = "proxy.process.log.space_refused_requests"
	MetricRefusedRecords  = "proxy.process.log.space_refused_records"
	MetricReloadOK        = "proxy.process.log.config.reload_successes"
	MetricReloadFailed    = "proxy.process.log.config.reload_failures"
	MetricSpaceUsed       = "proxy.process.log.log_files_space_used"
	MetricSpaceFree       = "proxy.process.log.partition_free_bytes"
	MetricSpaceLimit      = "proxy.process.log.space_limit_bytes"
	MetricSpaceHeadroom   = "proxy.process.log.space_headroom_bytes"
	MetricSpaceState      = "proxy.process.log.space_state"
	MetricSpaceFreeInodes = "proxy.process.log.partition_free_inodes"
	MetricPartHeadroom    = "proxy.process.log.partition_headroom_bytes"
	MetricAutoDeleted     = "proxy.process.log.autodeleted_files"
	MetricAutoDeletedB    = "proxy.process.log.autodeleted_bytes"
	MetricDeleteErrors    = "proxy.process.log.autodelete_errors"
	MetricSpaceScans      = "proxy.process.log.space_scans"
	MetricIngestRequests  = "proxy.process.log.ingest.requests"
	MetricIngestRecords   = "proxy.process.log.ingest.records_accepted"
	MetricIngestBytes     = "proxy.process.log.ingest.body_bytes"
	MetricIngestInFlight  = "proxy.process.log.ingest.requests_in_flight"
	MetricIngestMemory    = "proxy.process.log.ingest.memory_in_flight_bytes"
	MetricIngestTLSErrors = "proxy.process.log.ingest.tls_handshake_errors"
	MetricSyslogReceived  = "proxy.process.log.syslog.messages_received"
	MetricSyslogWritten   = "proxy.process.log.syslog.messages_written"
	MetricSyslogRefused   = "proxy.process.log.syslog.messages_refused"
	MetricSyslogLost      = "proxy.process.log.syslog.messages_lost"
	MetricSyslogDropped   = "proxy.process.log.syslog.udp_dropped"
	MetricSyslogRetries   = "proxy.process.log.syslog.write_retries"
	MetricSyslogConns     = "proxy.process.log.syslog.connections"
	MetricSyslogConnsNG   = "proxy.process.log.syslog.connections_refused"
	MetricSyslogEvicted   = "proxy.process.log.syslog.connections_evicted"
	MetricSyslogBytes     = "proxy.process.log.syslog.bytes_received"
)

// metricHelp gives each name its type and help text.
var metricHelp = map[string][2]string{
	MetricRecordsWritten:  {"counter", "records written to log files"},
	MetricBytesWritten:    {"counter", "bytes written to log files, newlines included"},
	MetricWriteCalls:      {"counter", "write(2) and writev(2) calls on log files"},
	MetricWriteErrors:     {"counter", "failed buffer writes (their requests failed, nothing acknowledged)"},
	MetricSyncs:           {"counter", "fsync calls on log files"},
	MetricRolls:           {"counter", "rolled files, by cause (time, size, forced, reload)"},
	MetricRollFailures:    {"counter", "rolls whose rename failed (the active file was kept)"},
	MetricMaxCountDeleted: {"counter", "rolled files deleted by rolling_max_count"},
	MetricMaxCountBytes:   {"counter", "bytes of rolled files deleted by rolling_max_count"},
	MetricRecreated:       {"counter", "active files recreated after someone else removed them"},
	MetricRollPauses:      {"counter", "rolls that paused writing to the log (every roll attempt)"},
	MetricRollPauseSecs:   {"counter", "seconds writing to the log was paused by rolls (fsync, rename, new file)"},
	MetricRollPauseMax:    {"gauge", "longest pause of writing to the log by one roll since start, in seconds"},
	MetricActiveBytes:     {"gauge", "size of the active file in bytes"},
	MetricCompressed:      {"counter", "rolled files compressed (rolled_compression)"},
	MetricCompressedIn:    {"counter", "bytes of the rolled files compressed, before compression"},
	MetricCompressedOut:   {"counter", "bytes of the rolled files compressed, after compression"},
	MetricCompressRatio:   {"gauge", "compressed_input_bytes / compressed_output_bytes since start; 0 before the first"},
	MetricCompressSecs:    {"counter", "seconds spent compressing rolled files (wall time, off the write path)"},
	MetricCompressFailed:  {"counter", "failed compression attempts (the raw file is kept and compressed again later)"},
	MetricCompressGaveUp:  {"counter", "rolled files published uncompressed after every compression attempt failed"},
	MetricCompressPending: {"gauge", "rolled files waiting for their compression or being compressed"},
	MetricPublishPending:  {"gauge", "rolled files waiting for their fsync before they appear under their rolled names (durability roll)"},
	MetricOpenFiles:       {"gauge", "log files open"},
	MetricAccepting:       {"gauge", "1 while logging accepts records, 0 while space is exhausted or stopping"},
	MetricRefusedWrites:   {"counter", "write requests refused because the log space is exhausted"},
	MetricRefusedRecords:  {"counter", "records refused because the log space is exhausted"},
	MetricReloadOK:        {"counter", "configuration reloads applied"},
	MetricReloadFailed:    {"counter", "configuration reloads refused (the running configuration was kept)"},
	MetricSpaceUsed:       {"gauge", "bytes of the regular files in the log folder (U)"},
	MetricSpaceFree:       {"gauge", "free bytes on the log folder's partition (P); -1 when unknown"},
	MetricSpaceLimit:      {"gauge", "max_space_mb_for_logs in bytes (M)"},
	MetricSpaceHeadroom:   {"gauge", "max_space_mb_headroom in bytes (H)"},
	MetricSpaceState:      {"gauge", "space state: 0 normal, 1 low, 2 exhausted"},
	MetricSpaceFreeInodes: {"gauge", "free inodes on the log folder's partition; -1 when unknown or not limited"},
	MetricPartHeadroom:    {"gauge", "free bytes kept on the partition: the headroom, at most 15% of the partition"},
	MetricAutoDeleted:     {"counter", "rolled files deleted by the space manager, by rule (max_age, max_count, max_total, budget, shipped)"},
	MetricAutoDeletedB:    {"counter", "bytes of rolled files deleted by the space manager, by rule"},
	MetricDeleteErrors:    {"counter", "autodeletions that failed"},
	MetricSpaceScans:      {"counter", "full scans of the log folder"},
	MetricIngestRequests:  {"counter", "ingest HTTP requests answered, by status code"},
	MetricIngestRecords:   {"counter", "records accepted by ingest (written, acknowledged)"},
	MetricIngestBytes:     {"counter", "ingest request body bytes after decompression"},
	MetricIngestInFlight:  {"gauge", "ingest requests being handled"},
	MetricIngestMemory:    {"gauge", "bytes of request buffers held from the ingest memory budget (32 MiB; beyond it, 429)"},
	MetricIngestTLSErrors: {"counter", "ingest connections whose TLS handshake failed (no valid client certificate, not TLS, timed out)"},
	MetricSyslogReceived:  {"counter", "syslog messages parsed, by transport (tcp, udp)"},
	MetricSyslogWritten:   {"counter", "syslog messages written to log files"},
	MetricSyslogRefused:   {"counter", "syslog messages refused, nothing written, by reason (syntax, utf8, nul, oversize, length, cut)"},
	MetricSyslogLost:      {"counter", "syslog messages parsed but not written, by reason (stop: stopped while the space was exhausted; unknown_log)"},
	MetricSyslogDropped:   {"counter", "syslog UDP datagrams the kernel dropped because the socket's buffer was full"},
	MetricSyslogRetries:   {"counter", "syslog batch writes refused (space exhausted, failed write) and retried while reading paused"},
	MetricSyslogConns:     {"gauge", "syslog TCP connections open"},
	MetricSyslogConnsNG:   {"counter", "syslog TCP connections closed at once: too many open"},
	MetricSyslogEvicted:   {"counter", "syslog TCP connections idle a minute or more, closed to make room for a new one when too many were open"},
	MetricSyslogBytes:     {"counter", "bytes read from syslog connections and datagrams"},
}

// series accumulates metrics.
type series []ctl.Metric

func (s *series) add(name string, v float64, labels ...string) {
	h := metricHelp[name]
	m := ctl.Metric{Name: name, Type: h[0], Help: h[1], Value: v}
	if len(labels) > 0 {
		m.Labels = map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Labels[labels[i]] = labels[i+1]
		}
	}
	*s = append(*s, m)
}

// Metrics implements ctl.Backend: every series, sorted by name then labels.
func (d *Daemon) Metrics() []ctl.Metric {
	var s series
	st := d.coll.Stats()
	logStats(&s, st.Total)
	names := make([]string, 0, len(st.Logs))
	for n := range st.Logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		logStats(&s, st.Logs[n], "log", n)
		s.add(MetricActiveBytes, float64(st.Logs[n].Size), "log", n)
	}
	// A removed log's counters stay, frozen: the per-log series sum to the
	// totals, and one declared again goes on from them (never back to 0).
	for _, n := range slices.Sorted(maps.Keys(st.Removed)) {
		logStats(&s, st.Removed[n], "log", n)
	}
	s.add(MetricOpenFiles, float64(st.OpenFiles))
	s.add(MetricCompressPending, float64(st.CompressPending))
	s.add(MetricPublishPending, float64(st.PublishPending))
	accepting := 1.0
	if d.isStopping() || d.space.Status().State == space.Exhausted {
		accepting = 0
	}
	s.add(MetricAccepting, accepting)
	s.add(MetricRefusedWrites, float64(st.RefusedWrites))
	s.add(MetricRefusedRecords, float64(st.RefusedRecords))

	sp := d.space.Status()
	s.add(MetricSpaceUsed, float64(sp.Used))
	s.add(MetricSpaceFree, float64(sp.Free))
	s.add(MetricSpaceLimit, float64(sp.Limit))
	s.add(MetricSpaceHeadroom, float64(sp.Headroom))
	s.add(MetricSpaceState, float64(sp.State))
	s.add(MetricSpaceFreeInodes, float64(sp.FreeInodes))
	s.add(MetricPartHeadroom, float64(sp.PartitionHeadroom))
	s.add(MetricAutoDeleted, float64(sp.DeletedFiles))
	s.add(MetricAutoDeletedB, float64(sp.DeletedBytes))
	for _, r := range space.Rules {
		s.add(MetricAutoDeleted, float64(sp.Deleted[r].Files), "rule", string(r))
		s.add(MetricAutoDeletedB, float64(sp.Deleted[r].Bytes), "rule", string(r))
	}
	// rolling_max_count's deletions per log, and their sum.
	s.add(MetricMaxCountDeleted, float64(sp.Deleted[space.RuleMaxCount].Files))
	s.add(MetricMaxCountBytes, float64(sp.Deleted[space.RuleMaxCount].Bytes))
	for _, u := range sp.Logs {
		if !u.Configured {
			continue
		}
		c := u.Deleted[space.RuleMaxCount]
		s.add(MetricMaxCountDeleted, float64(c.Files), "log", u.Name)
		s.add(MetricMaxCountBytes, float64(c.Bytes), "log", u.Name)
	}
	s.add(MetricDeleteErrors, float64(sp.DeleteErrors))
	s.add(MetricSpaceScans, float64(sp.Scans))

	d.mu.Lock()
	ok, ng := d.reloadOK, d.reloadNG
	d.mu.Unlock()
	s.add(MetricReloadOK, float64(ok))
	s.add(MetricReloadFailed, float64(ng))

	if d.ingest != nil {
		ingestMetrics(&s, d.ingest.Stats())
	}
	if d.syslog != nil {
		syslogMetrics(&s, d.syslog.Stats())
	}
	d.shipMetrics(&s, sp)
	sortSeries(s)
	return s
}

// logStats adds the collator counters of one log (or the totals).
func logStats(s *series, ls logging.LogStats, labels ...string) {
	s.add(MetricRecordsWritten, float64(ls.Records), labels...)
	s.add(MetricBytesWritten, float64(ls.Bytes), labels...)
	s.add(MetricWriteCalls, float64(ls.WriteCalls), labels...)
	s.add(MetricWriteErrors, float64(ls.WriteErrors), labels...)
	s.add(MetricSyncs, float64(ls.Syncs), labels...)
	s.add(MetricRolls, float64(ls.RollsTime+ls.RollsSize+ls.RollsForced+ls.RollsReload), labels...)
	for _, c := range []struct {
		cause string
		n     int64
	}{{"time", ls.RollsTime}, {"size", ls.RollsSize}, {"forced", ls.RollsForced}, {"reload", ls.RollsReload}} {
		s.add(MetricRolls, float64(c.n), append([]string{"cause", c.cause}, labels...)...)
	}
	s.add(MetricRollFailures, float64(ls.RollFailures), labels...)
	s.add(MetricRecreated, float64(ls.Recreated), labels...)
	s.add(MetricRollPauses, float64(ls.RollPauses), labels...)
	s.add(MetricRollPauseSecs, ls.RollPauseTotal.Seconds(), labels...)
	s.add(MetricRollPauseMax, ls.RollPauseMax.Seconds(), labels...)
	s.add(MetricCompressed, float64(ls.Compressed), labels...)
	s.add(MetricCompressedIn, float64(ls.CompressedIn), labels...)
	s.add(MetricCompressedOut, float64(ls.CompressedOut), labels...)
	ratio := 0.0
	if ls.CompressedOut > 0 {
		ratio = float64(ls.CompressedIn) / float64(ls.CompressedOut)
	}
	s.add(MetricCompressRatio, ratio, labels...)
	s.add(MetricCompressSecs, ls.CompressTime.Seconds(), labels...)
	s.add(MetricCompressFailed, float64(ls.CompressFailures), labels...)
	s.add(MetricCompressGaveUp, float64(ls.CompressUncompressed), labels...)
}

// sortSeries orders by name, then by the labels' text.
func sortSeries(s series) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Name != s[j].Name {
			return s[i].Name < s[j].Name
		}
		return labelText(s[i].Labels) < labelText(s[j].Labels)
	})
}

// labelText renders labels as `a="x",b="y"`, sorted by key.
func labelText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + `="` + l[k] + `"`)
	}
	return b.String()
}

// ingestMetrics adds the ingest server's counters.
func ingestMetrics(s *series, st ingest.Stats) {
	var total int64
	codes := make([]int, 0, len(st.Requests))
	for code, n := range st.Requests {
		codes = append(codes, code)
		total += n
	}
	sort.Ints(codes)
	s.add(MetricIngestRequests, float64(total))
	for _, code := range codes {
		s.add(MetricIngestRequests, float64(st.Requests[code]), "status", strconv.Itoa(code))
	}
	s.add(MetricIngestRecords, float64(st.Records))
	s.add(MetricIngestBytes, float64(st.BodyBytes))
	s.add(MetricIngestInFlight, float64(st.InFlight))
	s.add(MetricIngestMemory, float64(st.InFlightBytes))
	s.add(MetricIngestTLSErrors, float64(st.TLSHandshakeErrors))
}

// syslogMetrics adds the syslog server's counters; labelled series come
// with their unlabelled sum.
func syslogMetrics(s *series, st syslog.Stats) {
	labelled(s, MetricSyslogReceived, "transport", st.Received)
	s.add(MetricSyslogWritten, float64(st.Written))
	labelled(s, MetricSyslogRefused, "reason", st.Refused)
	labelled(s, MetricSyslogLost, "reason", st.Lost)
	s.add(MetricSyslogDropped, float64(st.UDPDropped))
	s.add(MetricSyslogRetries, float64(st.Retries))
	s.add(MetricSyslogConns, float64(st.Connections))
	s.add(MetricSyslogConnsNG, float64(st.ConnectionsRefused))
	s.add(MetricSyslogEvicted, float64(st.ConnectionsEvicted))
	s.add(MetricSyslogBytes, float64(st.Bytes))
}

// labelled adds a counter by label value, after its unlabelled sum; values
// sorted (a status code is labelled by its text, which sorts the same for
// three digits).
func labelled(s *series, name, label string, by map[string]int64) {
	keys := make([]string, 0, len(by))
	var total int64
	for k, n := range by {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	s.add(name, float64(total))
	for _, k := range keys {
		s.add(name, float64(by[k]), label, k)
	}
}
