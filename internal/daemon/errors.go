package daemon

import "fmt"

// ConfigError is a start-up failure caused by a configured value the
// validation could not rule out: a logfile_dir that is a file, a
// local_state_dir that cannot be created. logrolld exits 2 with it, as for an
// invalid configuration.
type ConfigError struct {
	// Where is "file:line:col" of the value, or "default".
	Where string
	// Record is the record's full name.
	Record string
	// Err is the failure.
	Err error
}

// Error reads "FILE:LINE:COL: RECORD: failure".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Where, e.Record, e.Err)
}

// Unwrap returns the failure.
func (e *ConfigError) Unwrap() error { return e.Err }
