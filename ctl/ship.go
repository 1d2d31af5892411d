package ctl

import "time"

// ShipStatus is the state of handing finished files on (docs/design.md §11):
// on_roll_command and shipping to object storage. Status has it when a log
// hands anything on, or files still wait.
type ShipStatus struct {
	// PendingFiles are the files with a step left (not yet shipped, or
	// whose on_roll_command has not exited 0), PendingBytes their size;
	// ParkedFiles those refused for good (a 4xx, a conflict), which wait
	// for a reload or a restart.
	PendingFiles int   `json:"pending_files"`
	PendingBytes int64 `json:"pending_bytes"`
	ParkedFiles  int   `json:"parked_files"`
	// OldestPending is the END of the oldest pending file, and
	// OldestPendingAge its age in seconds (0 when none is pending).
	OldestPending    *time.Time `json:"oldest_pending,omitempty"`
	OldestPendingAge float64    `json:"oldest_pending_age_seconds"`
	// Running counts the uploads and commands in flight.
	Running int `json:"running"`
	// Since the daemon started: files shipped and their bytes; those the
	// store already had (a retry after a crash, recognised by checksum);
	// on-roll commands that exited 0; files removed by someone else
	// before they were handed on.
	ShippedFiles   int64 `json:"shipped_files"`
	ShippedBytes   int64 `json:"shipped_bytes"`
	AlreadyThere   int64 `json:"already_there_files"`
	HooksSucceeded int64 `json:"hooks_succeeded"`
	GoneFiles      int64 `json:"gone_files"`
	// Failures counts failed attempts by kind: network, server (5xx),
	// refused (4xx), conflict, local, exit, timeout, start.
	Failures      map[string]int64 `json:"failures"`
	LastFailure   string           `json:"last_failure,omitempty"`
	LastFailureAt *time.Time       `json:"last_failure_at,omitempty"`
	// HeldFiles and HeldBytes are the files the space manager kept
	// although the budget wanted them gone (ship_before_delete = 1);
	// UnhandedDeleted the files it deleted before they were handed on
	// (ship_before_delete = 0), each an error in the daemon's log.
	HeldFiles       int64 `json:"held_files"`
	HeldBytes       int64 `json:"held_bytes"`
	UnhandedDeleted int64 `json:"unhanded_deleted_files"`
	// Logs are the logs that hand files on.
	Logs []ShipLog `json:"logs"`
}

// ShipLog is one log's hand-on figures.
type ShipLog struct {
	Name string `json:"name"`
	// Target is the ship_url (and endpoint), "" when the log ships
	// nothing; Command the on_roll_command's program, "" when none.
	Target        string     `json:"target,omitempty"`
	Command       string     `json:"command,omitempty"`
	PendingFiles  int        `json:"pending_files"`
	PendingBytes  int64      `json:"pending_bytes"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	ShippedFiles  int64      `json:"shipped_files"`
	ShippedBytes  int64      `json:"shipped_bytes"`
	Hooks         int64      `json:"hooks_succeeded"`
}
