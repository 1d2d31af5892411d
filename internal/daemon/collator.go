package daemon

import (
	"os"
	"time"

	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/space"
)

// collatorConfig maps a validated configuration onto the collator's Config.
// Durability and the name form are mapped by name, never by number: the
// records package numbers them from 0 (write, "."), the collator keeps 0 for
// "the default".
func collatorConfig(c *records.Config) logging.Config {
	lc := logging.Config{
		Dir:           c.Str(records.LogfileDir),
		Hostname:      c.Hostname(),
		Perm:          os.FileMode(c.Int(records.LogfilePerm)),
		BufferSize:    int(c.Int(records.LogBufferSize)),
		FlushInterval: time.Duration(c.Int(records.MaxSecsPerBuffer)) * time.Second,
		Durability:    durability(c.Int(records.Durability)),
		Form:          logging.FormDot,
	}
	if c.Int(records.RolledNameSep) == records.SeparatorATS {
		lc.Form = logging.FormATS
	}
	for i := range c.Logs {
		l := &c.Logs[i]
		lc.Logs = append(lc.Logs, logging.LogConfig{
			Name:    l.Filename,
			Storage: storage(c, l),
			Policy: logging.Policy{
				Mode:        logging.Mode(l.Int(records.RollingEnabled)),
				Interval:    time.Duration(l.Int(records.RollingIntervalSec)) * time.Second,
				OffsetHours: int(l.Int(records.RollingOffsetHr)),
				Calendar:    calendar(l.Int(records.RollingCalendar)),
				SizeBytes:   l.Int(records.RollingSizeMB) << 20,
				MinCount:    int(l.Int(records.RollingMinCount)),
				AllowEmpty:  l.Int(records.RollingAllowEmpty) == 1,
			},
		})
	}
	return lc
}

// storage maps a log's rolled_dir, rolled_compression and
// rolled_compression_level onto the collator's Storage: the folder
// absolute ("" for logfile_dir itself), the compression by name.
func storage(c *records.Config, l *records.Log) logging.Storage {
	st := logging.Storage{Level: int(l.Int(records.RolledCompLevel))}
	if d := c.RolledDir(l); d != c.Str(records.LogfileDir) {
		st.Dir = d
	}
	switch l.Int(records.RolledCompression) {
	case records.CompressionGzip:
		st.Compression = logging.CompressionGzip
	case records.CompressionZstd:
		st.Compression = logging.CompressionZstd
	}
	return st
}

// calendar maps proxy.config.log.rolling_calendar onto the collator's, by
// name as for durability.
func calendar(v int64) logging.Calendar {
	switch v {
	case records.CalendarWeekly:
		return logging.CalendarWeekly
	case records.CalendarMonthly:
		return logging.CalendarMonthly
	default:
		return logging.CalendarNone
	}
}

// durability maps proxy.config.log.durability onto the collator's level.
func durability(v int64) logging.Durability {
	switch v {
	case records.DurabilityWrite:
		return logging.DurabilityWrite
	case records.DurabilitySync:
		return logging.DurabilitySync
	default:
		return logging.DurabilityRoll
	}
}

// spaceConfig maps the configuration onto the space manager's, for the log
// folder dir the daemon opened (logfile_dir needs a restart).
func spaceConfig(c *records.Config, dir string) space.Config {
	sc := space.Config{
		Dir:          dir,
		Limit:        c.Int(records.MaxSpaceMB) << 20,
		Headroom:     c.Int(records.HeadroomMB) << 20,
		AutoDelete:   c.Int(records.AutoDelete) == 1,
		ScanInterval: time.Duration(c.Int(records.SpaceScanSec)) * time.Second,
		Host:         c.Hostname(),
	}
	// Too small to write: at least 1 MiB, and room for two full buffers of
	// every log, so that what was accepted can still be written.
	sc.MinFree = max(space.DefaultMinFree, 2*c.Int(records.LogBufferSize)*int64(len(c.Logs)))
	// Too few inodes to roll: one for every log's new active file at once,
	// and one for a .meta's temporary or the folder lock made again.
	sc.MinFreeInodes = max(space.DefaultMinFreeInodes, int64(len(c.Logs))+1)
	for i := range c.Logs {
		l := &c.Logs[i]
		sc.Logs = append(sc.Logs, space.Log{
			Name:     l.Filename,
			MinCount: int(l.Int(records.RollingMinCount)),
			MaxCount: int(l.Int(records.RollingMaxCount)),
			MaxAge:   time.Duration(l.Int(records.RollingMaxAgeSec)) * time.Second,
			MaxTotal: l.Int(records.RollingMaxTotalMB) << 20,
			Dir:      storage(c, l).Dir, // "" for the log folder
		})
	}
	return sc
}

// maxBodyBytes is proxy.config.ingest.max_body_mb in bytes.
func maxBodyBytes(c *records.Config) int64 {
	return c.Int(records.MaxBodyMB) << 20
}
