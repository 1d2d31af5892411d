// Package space is logroll's space manager (docs/design.md §6): it keeps the log
// folder inside its disk budget and stops logging, without losing anything,
// when the budget or the partition is exhausted.
//
// It is the one owner of every deletion of a rolled file the daemon makes.
//
// It has five parts, each in its own file:
//
//   - accounting (accounting.go, scanstat_*.go): U, the bytes of the regular files
//     directly in the log folder, from a full scan at start and every scan
//     interval, kept current in between from the collator's writes
//     ([Manager.Wrote]), rolls ([Manager.Rolled]), removals
//     ([Manager.Removed]) and the folder's fsnotify events (watch.go, a
//     thin adapter);
//   - the state machine (state.go): [Normal], [Low], [Exhausted] from U, the
//     partition's free space P and inodes, the limit M and the headroom H, a
//     pure function tested with a table;
//   - the order (order.go): [OrderKey] and [OldestFirst], the one
//     oldest-first order of rolled files, right across daylight-saving and
//     time-zone changes (the collator sets a rolled file's modification time
//     to its END);
//   - the rules (retention.go, planner.go): [BeyondMaxAge],
//     [BeyondMaxCount] and [BeyondMaxTotal], combined by [Retain], and
//     [Plan], pure functions that say which rolled files go, and why;
//     [NextExpiry] says when the next file reaches its maximum age;
//   - the executor and the goroutine that owns all of the above
//     (manager.go, its loop in run.go, delete.go), which logs and counts
//     every deletion with its rule, skips files held because they are not
//     yet handed on (hold.go: [Options.Hold], [Manager.HandedOn], rule
//     shipped), and wakes up on time for the next expiry.
//
// The manager never blocks a write: the write path only adds to an atomic
// counter and pokes a channel. It asks the collator to stop and resume
// accepting through [Options.Accept] (the collator's SetAccepting).
//
// It knows nothing of HTTP or TOML; it imports package logging only to parse
// rolled names. docs/space.md describes the behaviour and the decisions.
package space
