// Package daemon assembles logrolld from the project's packages: it loads
// records.toml, opens the collator (logging), serves the ingest port
// (logging/ingest) and the admin socket (ctl), runs the one reload path shared
// by logrollctl, SIGHUP and the file watcher, and exports the metrics of
// docs/design.md §7.
//
// cmd/logrolld is a thin main around it (flags, signals, exit codes). The
// package holds wiring only; every decision of substance lives in the
// packages it wires: the mapping from records to the collator's Config
// (collator.go) is a pure function tested with a table.
//
// Imports run one way: daemon imports ctl, logging/ingest, logging and
// records; none of them imports daemon.
package daemon
