package records

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Names of the records, for callers that read a Config's values by name.
const (
	LogfileDir         = "proxy.config.log.logfile_dir"
	Hostname           = "proxy.config.log.hostname"
	RollingEnabled     = "proxy.config.log.rolling_enabled"
	RollingIntervalSec = "proxy.config.log.rolling_interval_sec"
	RollingOffsetHr    = "proxy.config.log.rolling_offset_hr"
	RollingSizeMB      = "proxy.config.log.rolling_size_mb"
	RollingMinCount    = "proxy.config.log.rolling_min_count"
	RollingMaxCount    = "proxy.config.log.rolling_max_count"
	RollingMaxAgeSec   = "proxy.config.log.rolling_max_age_sec"
	RollingMaxTotalMB  = "proxy.config.log.rolling_max_total_mb"
	RollingCalendar    = "proxy.config.log.rolling_calendar"
	RollingAllowEmpty  = "proxy.config.log.rolling_allow_empty"
	RolledCompression  = "proxy.config.log.rolled_compression"
	RolledCompLevel    = "proxy.config.log.rolled_compression_level"
	RolledDir          = "proxy.config.log.rolled_dir"
	AutoDelete         = "proxy.config.log.auto_delete_rolled_files"
	MaxSpaceMB         = "proxy.config.log.max_space_mb_for_logs"
	HeadroomMB         = "proxy.config.log.max_space_mb_headroom"
	LogBufferSize      = "proxy.config.log.log_buffer_size"
	MaxSecsPerBuffer   = "proxy.config.log.max_secs_per_buffer"
	LogfilePerm        = "proxy.config.log.logfile_perm"
	Durability         = "proxy.config.log.durability"
	RolledNameSep      = "proxy.config.log.rolled_name_separator"
	SpaceScanSec       = "proxy.config.log.space_scan_interval_sec"
	LocalStateDir      = "proxy.config.local_state_dir"
	ConfigWatch        = "proxy.config.config_file_watch"
	DiagsLevel         = "proxy.config.diags.level"
	HTTPListen         = "proxy.config.ingest.http_listen"
	MaxBodyMB          = "proxy.config.ingest.max_body_mb"
	TLSCertFile        = "proxy.config.ingest.tls_cert_file"
	TLSKeyFile         = "proxy.config.ingest.tls_key_file"
	TLSClientCAFile    = "proxy.config.ingest.tls_client_ca_file"
	AuthTokensFile     = "proxy.config.ingest.auth_tokens_file"
	AllowInsecure      = "proxy.config.ingest.allow_insecure"
	SyslogUDPListen    = "proxy.config.syslog.udp_listen"
	SyslogTCPListen    = "proxy.config.syslog.tcp_listen"
	SyslogLog          = "proxy.config.syslog.log"
	SyslogMaxMessage   = "proxy.config.syslog.max_message_bytes"
	AdminHTTPListen    = "proxy.config.admin.http_listen"
	OnRollCommand      = "proxy.config.log.on_roll_command"
	ShipURL            = "proxy.config.log.ship_url"
	ShipEndpoint       = "proxy.config.log.ship_endpoint"
	ShipRegion         = "proxy.config.log.ship_region"
	ShipDeleteAfter    = "proxy.config.log.ship_delete_after"
	ShipBeforeDelete   = "proxy.config.log.ship_before_delete"
	ShipRetryMaxSec    = "proxy.config.log.ship_retry_max_sec"
)

// The values of the enum records.
const (
	DurabilityWrite = 0 // acknowledge after write(2)
	DurabilityRoll  = 1 // also fsync file and folder at every roll
	DurabilitySync  = 2 // also fsync before every acknowledgement

	SeparatorDot = 0 // access.log.web01.START-END.old
	SeparatorATS = 1 // access.log_web01.START-END.old

	CompressionNone = 0 // the plain .old file
	CompressionGzip = 1 // <rolled name>.gz
	CompressionZstd = 2 // <rolled name>.zst

	MaxGzipLevel    = 9  // gzip's levels are 1-9
	MaxZstdLevel    = 22 // zstd's are 1-22
	CalendarNone    = 0  // time boundaries from rolling_interval_sec
	CalendarWeekly  = 1  // one boundary a week, Monday at rolling_offset_hr
	CalendarMonthly = 2  // one boundary a month, the 1st at rolling_offset_hr
)

const (
	mib      = 1 << 20
	maxMiB   = 1 << 30 // 1 PiB expressed in MiB
	daySecs  = 86400
	maxCount = 1 << 30
	maxAge   = 100 * 366 * daySecs // a century, in seconds
)

// table is the record table: the one place that says what each record is.
var table = []Record{
	{
		Name: LogfileDir, Kind: KindString, Default: "logs",
		Description: "folder of the log files; a relative path resolves against the config file's folder",
		check:       checkPath,
	},
	{
		Name: Hostname, Kind: KindString, Default: "localhost", Reloadable: true,
		Description: `host name written into rolled file names; "localhost" or "" means the machine's host name`,
		check:       checkHostname,
	},
	{
		Name: RollingEnabled, Kind: KindEnum, Default: int64(1), Min: 0, Max: 4, Reloadable: true, PerLog: true,
		Enum: []EnumName{
			{"none", 0}, {"time", 1}, {"size", 2}, {"time_or_size", 3}, {"time_and_size", 4},
			{"both", 3}, {"any", 4},
		},
		Description: "when logs roll: 0 never, 1 at time boundaries, 2 on size, 3 time or size, 4 at a boundary once the size is reached",
	},
	{
		Name: RollingIntervalSec, Kind: KindInt, Default: int64(86400), Min: 1, Max: daySecs, Unit: "s",
		Reloadable: true, PerLog: true, adjust: adjustInterval,
		Description: "seconds between time boundaries; must divide 86400 (other values are rounded up to the next divisor)",
	},
	{
		Name: RollingOffsetHr, Kind: KindInt, Default: int64(0), Min: 0, Max: 23, Unit: "h",
		Reloadable: true, PerLog: true, adjust: adjustOffset,
		Description: "hour of the day the time boundaries are aligned to (0-23); with rolling_calendar, the hour of the Monday or the 1st",
	},
	{
		Name: RollingCalendar, Kind: KindEnum, Default: int64(CalendarNone), Min: 0, Max: 2,
		Reloadable: true, PerLog: true,
		Enum:        []EnumName{{"none", CalendarNone}, {"weekly", CalendarWeekly}, {"monthly", CalendarMonthly}},
		Description: `time boundaries by the calendar instead of rolling_interval_sec: "weekly" (Monday) or "monthly" (the 1st), at rolling_offset_hr; "none" uses the interval`,
	},
	{
		Name: RollingSizeMB, Kind: KindInt, Default: int64(10), Min: 1, Max: maxMiB, Unit: "MiB",
		Reloadable: true, PerLog: true, adjust: adjustSize,
		Description: "size at which a log rolls in modes 2, 3 and 4",
	},
	{
		Name: RollingMinCount, Kind: KindInt, Default: int64(0), Min: 0, Max: maxCount,
		Reloadable: true, PerLog: true,
		Description: "rolled files the space manager tries to keep for a log; 0 keeps as many as possible (deleted last)",
	},
	{
		Name: RollingMaxCount, Kind: KindInt, Default: int64(0), Min: 0, Max: maxCount,
		Reloadable: true, PerLog: true,
		Description: "with autodelete on, the space manager keeps only this many newest rolled files of a log; 0 is no limit",
	},
	{
		Name: RollingMaxAgeSec, Kind: KindInt, Default: int64(0), Min: 0, Max: maxAge, Unit: "s",
		Reloadable: true, PerLog: true,
		Description: "with autodelete on, the space manager deletes a log's rolled files once their END is this many seconds old; 0 keeps them",
	},
	{
		Name: RollingMaxTotalMB, Kind: KindInt, Default: int64(0), Min: 0, Max: maxMiB, Unit: "MiB",
		Reloadable: true, PerLog: true,
		Description: "with autodelete on, the space manager keeps a log's newest rolled files within this total, deleting the oldest; 0 is no limit",
	},
	{
		Name: RollingAllowEmpty, Kind: KindBool, Default: int64(0), Min: 0, Max: 1,
		Reloadable: true, PerLog: true,
		Description: "1 lets a time boundary roll an empty log into an empty .old file",
	},
	{
		Name: RolledCompression, Kind: KindEnum, Default: int64(CompressionNone), Min: 0, Max: 2,
		Reloadable: true, PerLog: true,
		Enum:        []EnumName{{"none", CompressionNone}, {"gzip", CompressionGzip}, {"zstd", CompressionZstd}},
		Description: "how rolled files are stored: none (the .old file), gzip (.old.gz) or zstd (.old.zst), compressed off the write path; the file appears once, complete, in that form",
	},
	{
		Name: RolledCompLevel, Kind: KindInt, Default: int64(0), Min: 0, Max: MaxZstdLevel,
		Reloadable: true, PerLog: true,
		Description: "compression level: gzip 1-9, zstd 1-22; 0 is the format's default (gzip 6, zstd 3, as their commands)",
	},
	{
		Name: RolledDir, Kind: KindString, Default: "", Reloadable: true, PerLog: true,
		Description: `folder rolled files are moved into (logrotate's olddir); "" is logfile_dir, a relative path resolves against it; it must be on logfile_dir's filesystem, and counts toward the disk budget`,
		check:       checkRolledDir,
	},
	{
		Name: AutoDelete, Kind: KindBool, Default: int64(1), Min: 0, Max: 1, Reloadable: true,
		Description: "1 lets the space manager delete rolled files: the oldest for the budget, and those beyond rolling_max_count, rolling_max_age_sec and rolling_max_total_mb",
	},
	{
		Name: MaxSpaceMB, Kind: KindInt, Default: int64(25000), Min: 1, Max: maxMiB, Unit: "MiB",
		Reloadable:  true,
		Description: "disk budget for all files in the log folder",
	},
	{
		Name: HeadroomMB, Kind: KindInt, Default: int64(1000), Min: 1, Max: maxMiB, Unit: "MiB",
		Reloadable: true, adjust: adjustHeadroom,
		Description: "space kept free below the budget (must be less than it) and on the partition (at most 15% of it); deleting starts when it is reached (0 or less: 10, as in Traffic Server)",
	},
	{
		Name: LogBufferSize, Kind: KindInt, Default: int64(9216), Min: 512, Max: 64 * mib, Unit: "bytes",
		Reloadable:  true,
		Description: "a log's buffer is written once it holds this many bytes",
	},
	{
		Name: MaxSecsPerBuffer, Kind: KindInt, Default: int64(5), Min: 1, Max: 3600, Unit: "s",
		Reloadable:  true,
		Description: "longest time a record waits in a buffer when no client is waiting for it",
	},
	{
		Name: LogfilePerm, Kind: KindPerm, Default: int64(0o644), Min: 0, Max: 0o777, Reloadable: true,
		Description: "mode of the log files logroll creates",
	},
	{
		Name: Durability, Kind: KindEnum, Default: int64(DurabilityRoll), Min: 0, Max: 2, Reloadable: true,
		Enum:        []EnumName{{"write", DurabilityWrite}, {"roll", DurabilityRoll}, {"sync", DurabilitySync}},
		Description: "write: acknowledge after write(2); roll: also fsync at every roll; sync: also fsync before every acknowledgement",
	},
	{
		Name: RolledNameSep, Kind: KindEnum, Default: int64(SeparatorDot), Min: 0, Max: 1, Reloadable: true,
		Enum:        []EnumName{{".", SeparatorDot}, {"_", SeparatorATS}},
		Description: `separator between the log name and the host in rolled names: "." or "_" (Traffic Server's own form)`,
	},
	{
		Name: SpaceScanSec, Kind: KindInt, Default: int64(60), Min: 1, Max: daySecs, Unit: "s",
		Reloadable:  true,
		Description: "seconds between full rescans of the log folder's usage",
	},
	{
		Name: LocalStateDir, Kind: KindString, Default: "run",
		Description: "folder of the admin socket logrolld.sock; a relative path resolves against the config file's folder",
		check:       checkPath,
	},
	{
		Name: ConfigWatch, Kind: KindBool, Default: int64(1), Min: 0, Max: 1, Reloadable: true,
		Description: "1 reloads the configuration when its file changes",
	},
	{
		Name: DiagsLevel, Kind: KindEnum, Default: int64(1), Min: 0, Max: 3, Reloadable: true,
		Enum:        []EnumName{{"debug", 0}, {"info", 1}, {"warn", 2}, {"error", 3}},
		Description: "level of the daemon's own diagnostics on stderr",
	},
	{
		Name: HTTPListen, Kind: KindString, Default: "127.0.0.1:8480",
		Description: `address of the HTTP ingest listener, host:port; "" disables it`,
		check:       checkListen,
	},
	{
		Name: MaxBodyMB, Kind: KindInt, Default: int64(16), Min: 1, Max: 4096, Unit: "MiB",
		Reloadable:  true,
		Description: "largest request body accepted, measured after decompression",
	},
	{
		Name: TLSCertFile, Kind: KindString, Default: "", Reloadable: true,
		Description: `PEM certificate chain of the ingest (and remote admin) listener; "" serves plain HTTP; re-read on every reload`,
		check:       checkOptionalPath,
	},
	{
		Name: TLSKeyFile, Kind: KindString, Default: "", Reloadable: true,
		Description: "PEM private key of tls_cert_file; re-read on every reload",
		check:       checkOptionalPath,
	},
	{
		Name: TLSClientCAFile, Kind: KindString, Default: "", Reloadable: true,
		Description: `PEM CA certificates that client certificates must chain to (mutual TLS); "" asks for none`,
		check:       checkOptionalPath,
	},
	{
		Name: AuthTokensFile, Kind: KindString, Default: "", Reloadable: true,
		Description: `bearer tokens file (SHA-256 hashes, each with the logs it may write); "" accepts requests without a token`,
		check:       checkOptionalPath,
	},
	{
		Name: AllowInsecure, Kind: KindBool, Default: int64(0), Min: 0, Max: 1, Reloadable: true,
		Description: "1 lets http_listen be a non-loopback address without TLS and tokens",
	},
	{
		Name: SyslogUDPListen, Kind: KindString, Default: "",
		Description: `address of the syslog UDP listener (RFC 5424 and 3164), host:port; "" disables it`,
		check:       checkListen,
	},
	{
		Name: SyslogTCPListen, Kind: KindString, Default: "",
		Description: `address of the syslog TCP listener (octet counting or newline framing), host:port; "" disables it`,
		check:       checkListen,
	},
	{
		Name: SyslogLog, Kind: KindString, Default: "syslog", Reloadable: true,
		Description: "log that receives syslog messages no [[logs]] syslog_app_name or syslog_facility routes elsewhere",
		check:       checkFilename,
	},
	{
		Name: SyslogMaxMessage, Kind: KindInt, Default: int64(65536), Min: 480, Max: mib, Unit: "bytes",
		Description: "largest syslog message accepted (after framing); longer ones are refused and counted",
	},
	{
		Name: AdminHTTPListen, Kind: KindString, Default: "",
		Description: `address of the remote admin listener (roll, rolled, status over TLS with a token), host:port; "" disables it`,
		check:       checkListen,
	},
	// Handing finished files on (docs/design.md §11, docs/shipping.md).
	{
		Name: OnRollCommand, Kind: KindArgv, Default: []string{}, Reloadable: true, PerLog: true,
		Description: "program and arguments run once per finished file (path as last argument, LOGROLL_* in the environment); exit 0 hands the file on",
		checkArgv:   checkCommand,
	},
	{
		Name: ShipURL, Kind: KindString, Default: "", Reloadable: true, PerLog: true,
		Description: `"s3://BUCKET/PREFIX": upload every finished file to S3-compatible storage under PREFIX/HOST/LOG/YYYY/MM/DD/NAME; "" ships nothing`,
		check:       checkShipURL,
	},
	{
		Name: ShipEndpoint, Kind: KindString, Default: "", Reloadable: true, PerLog: true,
		Description: `S3 endpoint URL, e.g. "http://127.0.0.1:7070" for a local store; "" is AWS S3 in ship_region`,
		check:       checkEndpoint,
	},
	{
		Name: ShipRegion, Kind: KindString, Default: "us-east-1", Reloadable: true, PerLog: true,
		Description: "region the uploads are signed for",
		check:       checkRegion,
	},
	{
		Name: ShipDeleteAfter, Kind: KindBool, Default: int64(1), Min: 0, Max: 1, Reloadable: true, PerLog: true,
		Description: "1 deletes a finished file once it is shipped (and its on_roll_command succeeded); 0 keeps it for local retention",
	},
	{
		Name: ShipBeforeDelete, Kind: KindBool, Default: int64(1), Min: 0, Max: 1, Reloadable: true, PerLog: true,
		Description: "1: no rule deletes a file not yet shipped or handed on (ingest answers 503 when only such files could free the budget); 0: they may be, each deletion an error",
	},
	{
		Name: ShipRetryMaxSec, Kind: KindInt, Default: int64(300), Min: 1, Max: daySecs, Unit: "s", Reloadable: true,
		Description: "longest wait between two attempts to ship a file or run its on_roll_command (the wait doubles from 1 s up to this)",
	},
}

// adjustInterval is Traffic Server's LogObject rule with logroll's 1 s
// floor: above a day is a day, and an interval that does not divide the day
// is rounded up to the next divisor.
func adjustInterval(v int64) (int64, string) {
	if v < 1 {
		return 1, fmt.Sprintf("%d is below the 1 s floor; using 1", v)
	}
	if v > daySecs {
		return daySecs, fmt.Sprintf("%d is above a day, the longest interval; using 86400", v)
	}
	if daySecs%v == 0 {
		return v, ""
	}
	d := v
	for daySecs%d != 0 {
		d++
	}
	return d, fmt.Sprintf("%d does not divide 86400; rounded up to %d", v, d)
}

// adjustHeadroom is Traffic Server's reading of max_space_mb_headroom: a
// value of 0 or less leaves its built-in 10 MiB in place.
func adjustHeadroom(v int64) (int64, string) {
	if v < 1 {
		return 10, fmt.Sprintf("%d means Traffic Server's built-in headroom; using 10 (write 1 for the least)", v)
	}
	return v, ""
}

func adjustOffset(v int64) (int64, string) {
	if v < 0 || v > 23 {
		return 0, fmt.Sprintf("%d is outside 0-23; using 0", v)
	}
	return v, ""
}

func adjustSize(v int64) (int64, string) {
	if v < 1 {
		return 1, fmt.Sprintf("%d is below the 1 MiB floor; using 1", v)
	}
	return v, ""
}

// checkRolledDir accepts "" (logfile_dir), a relative path, which stays
// inside logfile_dir, or an absolute one; never a ".." element, which could
// take a relative path out of logfile_dir (the folder itself is checked by
// the daemon: see internal/daemon).
func checkRolledDir(s string) string {
	if strings.ContainsRune(s, 0) {
		return "must not contain a NUL byte"
	}
	for _, e := range strings.Split(s, "/") {
		if e == ".." {
			return `must not contain a ".." element (a relative rolled_dir resolves inside logfile_dir)`
		}
	}
	return ""
}

func checkPath(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.ContainsRune(s, 0) {
		return "must not contain a NUL byte"
	}
	return ""
}

// checkOptionalPath accepts "" (not set) or a path without NUL.
func checkOptionalPath(s string) string {
	if s == "" {
		return ""
	}
	return checkPath(s)
}

// checkHostname accepts a host name made of letters, digits, '.', '_' and
// '-' (what can stand in a rolled file name), up to maxHostname bytes.
func checkHostname(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Sprintf("character %q is not allowed in a host name (letters, digits, '.', '_' and '-' only)", r)
		}
	}
	if len(s) > maxHostname {
		return fmt.Sprintf("is longer than %d bytes", maxHostname)
	}
	return ""
}

func checkListen(s string) string {
	if s == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be host:port or empty: %v", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q must be a number from 0 to 65535", port)
	}
	return ""
}
