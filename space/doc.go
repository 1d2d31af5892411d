// Package space is logroll's space manager (DESIGN §6): it keeps the log
// folder inside its disk budget and stops logging, without losing anything,
// when the budget or the partition is exhausted.
//
// It has four parts, each in its own file:
//
//   - accounting (accounting.go, scanstat_*.go): U, the bytes of the regular files
//     directly in the log folder, from a full scan at start and every scan
//     interval, kept current in between from the collator's writes
//     ([Manager.Wrote]), from removals ([Manager.Removed]) and from the
//     folder's fsnotify events (watch.go, a thin adapter);
//   - the state machine (state.go): [Normal], [Low], [Exhausted] from U, the
//     partition's free space P, the limit M and the headroom H, a pure
//     function tested with a table;
//   - the victim order (planner.go): [Plan], a pure function that says which
//     rolled file autodelete removes next;
//   - the executor and the goroutine that owns all of the above
//     (manager.go, delete.go).
//
// The manager never blocks a write: the write path only adds to an atomic
// counter and pokes a channel. It asks the collator to stop and resume
// accepting through [Options.Accept] (the collator's SetAccepting).
//
// It knows nothing of HTTP or TOML; it imports package logging only to parse
// rolled names. docs/space.md describes the behaviour and the decisions.
package space
