// Package records holds logroll's configuration: the record table (every
// record's name, type, default, range, unit, reloadability and description),
// strict decoding of records.toml with file:line:col errors, validation,
// Traffic-Server-style adjustments reported as warnings, the diff between two
// configurations, and the watcher that reloads the file when it changes.
//
// It knows nothing of log files or HTTP.
package records
