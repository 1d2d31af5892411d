package ctl

import (
	"context"
	"errors"
	"time"
)

// The admin endpoints (docs/design.md §3), served over the Unix socket only.
const (
	// PathRoll (POST, body RollRequest) rolls logs now and answers RollResponse.
	PathRoll = "/v1/roll"
	// PathReload (POST, no body) reloads the config file and answers ReloadResult.
	PathReload = "/v1/config/reload"
	// PathConfig (GET) answers ConfigResponse: the running configuration.
	PathConfig = "/v1/config"
	// PathMetrics (GET) answers MetricsResponse.
	PathMetrics = "/v1/metrics"
	// PathStatus (GET) answers Status.
	PathStatus = "/v1/status"
	// PathRolled (GET, query log=NAME repeated) answers RolledResponse.
	PathRolled = "/v1/rolled"
	// PathLogs (POST /v1/logs/{name}, a text body) appends records to a log
	// as the ingest port does (docs/design.md §3), and answers {"records":N} once
	// they are written: what `logrollctl pipe` sends.
	PathLogs = "/v1/logs/"

	// HeaderPipelining is in every answer of the socket's PathLogs: after an
	// answer but 2xx the daemon closes the connection, so that no request
	// pipelined after a refused one is processed. A client may then send a
	// request before the answer of the one before and keep them in order
	// (`logrollctl pipe`, PipeConn).
	HeaderPipelining = "Logroll-Pipelining"
)

// Errors a Backend returns (wrapped) so that the server answers the matching
// status; any other error is a 500.
var (
	// ErrUnknownLog: a named log is not declared (404).
	ErrUnknownLog = errors.New("unknown log")
	// ErrUnavailable: the daemon is stopping (503).
	ErrUnavailable = errors.New("daemon is stopping")
)

// Backend is what the admin server serves: the daemon implements it. Every
// method is called from the server's request goroutines, concurrently.
type Backend interface {
	// Roll rolls the named logs (all when none) and waits until done. Roll
	// failures of some logs are reported in RollResponse.Errors next to the
	// files that did roll; a returned error means nothing was rolled.
	Roll(ctx context.Context, logs []string) (RollResponse, error)
	// Reload loads, validates and applies the config file. A refused config
	// is a ReloadResult with OK false, not an error; an error means the
	// reload could not be attempted (ErrUnavailable).
	Reload(ctx context.Context) (ReloadResult, error)
	// Config returns the running configuration.
	Config() ConfigResponse
	// Metrics returns every metric series.
	Metrics() []Metric
	// Status returns the daemon's status.
	Status() Status
	// Rolled lists the rolled files of the named logs (all rolled files in
	// the log folder, of configured logs or not, when none is named).
	Rolled(logs []string) ([]RolledFile, error)
}

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// RollRequest is the body of POST /v1/roll.
type RollRequest struct {
	// Logs are log names, declared ("access") or active ("access.log");
	// empty means every log.
	Logs []string `json:"logs,omitempty"`
}

// RolledFile describes one rolled file (.old, .old.gz, .old.zst), with the
// fields parsed from its name, so that no script has to parse names.
type RolledFile struct {
	Log  string `json:"log"`  // active name, e.g. "access.log"
	Host string `json:"host"` // host written in the name
	Path string `json:"path"` // absolute path
	// Dir is the folder of Path: logfile_dir, or the log's rolled_dir.
	Dir string `json:"dir"`
	// Compression is how the file is stored: "none" (the .old file),
	// "gzip" (.old.gz) or "zstd" (.old.zst).
	Compression string    `json:"compression"`
	Start       time.Time `json:"start"` // START, whole seconds, local time
	End         time.Time `json:"end"`   // END
	Seq         int       `json:"seq,omitempty"`
	// Bytes is the file's size, compressed or not.
	Bytes int64 `json:"bytes"`
	// RawBytes is what a compressed file holds, decompressed; known only
	// for files rolled by this request (POST /v1/roll).
	RawBytes int64 `json:"raw_bytes,omitempty"`
	// Records and Cause are known only for files rolled by this request
	// (POST /v1/roll).
	Records int64  `json:"records,omitempty"`
	Cause   string `json:"cause,omitempty"`
	// Configured is false for files of a log no longer declared (GET /v1/rolled).
	Configured bool `json:"configured"`
	// Ship and Hook say where the file is in being handed on (GET
	// /v1/rolled): "pending", "done" or "failed" (refused for good, waits
	// for a reload); absent when its log does not ship or run a command.
	// Key is the object key once shipped.
	Ship string `json:"ship,omitempty"`
	Hook string `json:"hook,omitempty"`
	Key  string `json:"key,omitempty"`
}

// RollResponse answers POST /v1/roll: the files rolled, in the order asked,
// and the roll failures (the active file was kept in place).
type RollResponse struct {
	Rolled []RolledFile `json:"rolled"`
	Errors []string     `json:"errors,omitempty"`
}

// RolledResponse answers GET /v1/rolled, oldest first per log.
type RolledResponse struct {
	Rolled []RolledFile `json:"rolled"`
}

// Change is one difference between the running and the new configuration.
type Change struct {
	Name    string `json:"name"`
	Old     string `json:"old"`
	New     string `json:"new"`
	Restart bool   `json:"restart,omitempty"`
}

// ReloadResult is the outcome of one reload attempt, from whichever trigger.
type ReloadResult struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"` // "start", "ctl", "sighup" or "watch"
	Source  string    `json:"source"`  // the config file, "" for embedded defaults
	OK      bool      `json:"ok"`
	// Error is the refusal, every problem as FILE:LINE:COL: key: message, one a line.
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Changes are what this reload applied (restart-required ones are not applied).
	Changes []Change `json:"changes,omitempty"`
	// RestartRequired lists every change since start that waits for a restart.
	RestartRequired []Change `json:"restart_required,omitempty"`
}

// RecordValue is one record of the running configuration.
type RecordValue struct {
	Name        string `json:"name"`
	Value       string `json:"value"`   // as records.toml writes it
	Default     string `json:"default"` // idem
	Kind        string `json:"kind"`
	Range       string `json:"range"`
	Unit        string `json:"unit,omitempty"`
	Reloadable  bool   `json:"reloadable"`
	PerLog      bool   `json:"per_log"`
	Source      string `json:"source"` // "file:line:col" or "default"
	Description string `json:"description"`
}

// LogConfig is one declared log with its effective per-log records.
// Records holds one RecordValue per per-log record (rolling_*), named by the
// record's full name (proxy.config.log.rolling_size_mb), with the log's
// effective Value and its Source: the log's own table ("file:line:col") when
// it overrides the record, else "global " and the global record's source
// ("global file:line:col", "global default").
type LogConfig struct {
	Name     string        `json:"name"`     // active name, "access.log"
	Declared string        `json:"declared"` // as written, "access"
	Records  []RecordValue `json:"records"`
}

// ConfigResponse answers GET /v1/config.
type ConfigResponse struct {
	Source string `json:"source"` // config file, "" for embedded defaults
	// TOML is the running configuration re-encoded (records.Config.TOML), which
	// records.Load reads back to the same values.
	TOML       string        `json:"toml"`
	Records    []RecordValue `json:"records"`
	Logs       []LogConfig   `json:"logs"`
	LastReload ReloadResult  `json:"last_reload"`
}

// Metric is one series: a Traffic-Server-style dotted name
// (proxy.process.log.records_written) and optional labels (log, cause,
// status). An aggregate over a labelled family is the unlabelled series of
// the same name.
type Metric struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Type   string            `json:"type"` // "counter" or "gauge"
	Help   string            `json:"help,omitempty"`
	Value  float64           `json:"value"`
}

// MetricsResponse answers GET /v1/metrics.
type MetricsResponse struct {
	Metrics []Metric `json:"metrics"`
}

// LogStatus is one log's state.
type LogStatus struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	ActiveBytes int64     `json:"active_bytes"`
	Start       time.Time `json:"start,omitzero"` // START of the active file; zero (omitted) while it has none
	Rolled      int       `json:"rolled_files"`
	RolledBytes int64     `json:"rolled_bytes"`
	MinCount    int       `json:"min_count"`
	MaxCount    int       `json:"max_count"`
	// RolledDir is the folder its rolled files go into (rolled_dir,
	// absolute: logfile_dir when not set), Compression how they are
	// stored (rolled_compression: "none", "gzip" or "zstd").
	RolledDir   string `json:"rolled_dir"`
	Compression string `json:"compression"`
}

// SpaceStatus is the space manager's state (docs/design.md §6).
type SpaceStatus struct {
	State string `json:"state"` // "normal", "low" or "exhausted"
	// Reason says why the state is not normal, with the current figures
	// and, when exhausted, what it takes to resume.
	Reason string `json:"reason,omitempty"`
	// Warnings say what is wrong with the configuration for this
	// partition whatever the state (a headroom larger than it can keep).
	Warnings      []string `json:"warnings,omitempty"`
	Used          int64    `json:"used_bytes"`
	Limit         int64    `json:"limit_bytes"`
	Headroom      int64    `json:"headroom_bytes"`
	PartitionFree int64    `json:"partition_free_bytes"`
	// PartitionHeadroom is the free space kept on the partition: the
	// headroom, at most 15 % of the partition's size.
	PartitionHeadroom int64 `json:"partition_headroom_bytes"`
	// PartitionFreeInodes is -1 when the filesystem reports no inode limit.
	PartitionFreeInodes int64 `json:"partition_free_inodes"`
	AutoDelete          bool  `json:"auto_delete"`
	DeletedFiles        int64 `json:"deleted_files"`
	DeletedBytes        int64 `json:"deleted_bytes"`
	// DeletedByRule counts the deleted files by rule: "max_age"
	// (rolling_max_age_sec), "max_count" (rolling_max_count), "max_total"
	// (rolling_max_total_mb) and "budget" (the disk budget and the
	// partition).
	DeletedByRule map[string]int64 `json:"deleted_by_rule"`
}

// Status answers GET /v1/status.
type Status struct {
	// Version is the daemon's build: its version, commit and Go version
	// (buildinfo.Info.Describe).
	Version   string       `json:"version,omitempty"`
	PID       int          `json:"pid"`
	Started   time.Time    `json:"started"`
	Config    string       `json:"config"` // config file, "" for embedded defaults
	Dir       string       `json:"dir"`
	Host      string       `json:"host"`
	Listen    string       `json:"listen"` // ingest address, "" when disabled
	Socket    string       `json:"socket"`
	Accepting bool         `json:"accepting"`
	Space     *SpaceStatus `json:"space,omitempty"`
	Logs      []LogStatus  `json:"logs"`
	Ship      *ShipStatus  `json:"ship,omitempty"`
}
