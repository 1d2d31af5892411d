package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// The reload path. logrollctl config reload (Reload), SIGHUP (ReloadFrom) and
// the file watcher (onWatch) all end in apply, one at a time (reloadMu):
// validate fully, then Diff, Apply to the collator and the ingest server, and
// record the result that `logrollctl config status` shows. A refused
// configuration changes nothing: the running one stays.

// Trigger names, as ReloadResult.Trigger reports them.
const (
	TriggerStart  = "start"
	TriggerCtl    = "ctl"
	TriggerSIGHUP = "sighup"
	TriggerWatch  = "watch"
)

// Reload implements ctl.Backend: logrollctl config reload.
func (d *Daemon) Reload(ctx context.Context) (ctl.ReloadResult, error) {
	select {
	case <-d.stopping:
		return ctl.ReloadResult{}, ctl.ErrUnavailable
	default:
	}
	return d.ReloadFrom(TriggerCtl), nil
}

// ReloadFrom reads the config file again and applies it; trigger says who
// asked (TriggerSIGHUP from logrolld's signal loop). On the embedded defaults
// there is no file: the result is OK with nothing changed and a warning.
func (d *Daemon) ReloadFrom(trigger string) ctl.ReloadResult {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	source := d.initial.Source
	if source == "" {
		res := ctl.ReloadResult{
			Time: d.opts.Now(), Trigger: trigger, OK: true,
			Warnings: []string{"running on the embedded defaults (no -config file): nothing to reload"},
		}
		d.record(res)
		return res
	}
	cfg, warnings, err := records.LoadFile(source)
	return d.apply(trigger, cfg, warnings, err)
}

// onWatch is the watcher's callback: a changed (or unreadable) file.
func (d *Daemon) onWatch(cfg *records.Config, warnings []records.Warning, err error) {
	select {
	case <-d.stopping:
		return
	default:
	}
	d.mu.Lock()
	watching := d.cfg.Int(records.ConfigWatch) == 1
	d.mu.Unlock()
	if !watching {
		d.log.Debug("config file changed, not reloaded", "record", records.ConfigWatch)
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.apply(TriggerWatch, cfg, warnings, err)
}

// apply applies a loaded configuration, or records the load's failure.
// The caller holds reloadMu.
func (d *Daemon) apply(trigger string, cfg *records.Config, warnings []records.Warning, err error) ctl.ReloadResult {
	res := ctl.ReloadResult{Time: d.opts.Now(), Trigger: trigger, Source: d.initial.Source}
	if err == nil && len(cfg.Logs) == 0 && len(d.config().Logs) > 0 {
		// As an empty file: far more often one caught while being written
		// (its [[logs]] tables not yet there) than a wish to stop logging.
		err = &ConfigError{Where: cfg.Source + ":1:1", Record: "logs",
			Err: errors.New("the file declares no log ([[logs]] with a filename): refused, as every running log would go and ingest answer 404 (a file caught while being written? To stop logging, stop the daemon)")}
	}
	if err == nil {
		// What the restart a folder change needs would refuse, and what
		// opening the new logs would fail on, is refused now.
		err = checkAgainst(cfg, d.initial, d.config())
	}
	if err == nil && cfg.Str(records.LogfileDir) != d.initial.Str(records.LogfileDir) {
		// The rolled folders used until the restart resolve against the
		// log folder in use (checkAgainst checked those of the new one).
		err = checkError(checkRolledDirs(records.Running(cfg, d.initial)))
	}
	var sec *security
	var secWarnings []string
	if err == nil {
		sec, secWarnings, err = loadSecurity(cfg, d.opts.Now())
	}
	// Records that need a restart keep their running value (the collator
	// keeps the folder it opened, the listeners their addresses), and the
	// configuration kept as running says so. The listeners keep their
	// addresses: whether they may go without TLS and tokens is decided on
	// those.
	var running *records.Config
	if err == nil {
		running = records.Running(cfg, d.initial)
		if ps := records.Exposure(running); len(ps) > 0 {
			err = &records.LoadError{Problems: ps}
		}
	}
	if err != nil {
		return d.refuse(res, err)
	}
	d.mu.Lock()
	old := d.cfg
	d.mu.Unlock()
	changes := append(records.Diff(old, cfg), securityChanges(d.sec.Load(), sec)...)

	dir := d.initial.Str(records.LogfileDir)
	// Everything that can refuse goes first, and the space manager, which
	// deletes, last: a refused configuration must change nothing. The
	// space limits are checked without being applied; the collator's Apply
	// is all or nothing (it checks every new log's paths before creating
	// anything, and removes what it created if an opening fails).
	sc := spaceConfig(running, dir)
	if err := sc.Validate(); err != nil {
		return d.refuse(res, fmt.Errorf("apply space limits: %w", err))
	}
	shc, err := shipConfig(running)
	if err != nil {
		return d.refuse(res, fmt.Errorf("apply hand-on settings: %w", err))
	}
	if err := d.coll.Apply(collatorConfig(running)); err != nil {
		return d.refuse(res, err) // "logging: apply: …"
	}
	// The ship manager before the space manager: the holds of the new
	// configuration count from the space manager's next step.
	if err := d.ship.Apply(shc); err != nil {
		d.log.Error("hand-on settings not applied", "err", err)
	}
	if err := d.space.Apply(sc); err != nil {
		// Only a closing manager refuses a validated configuration.
		d.log.Error("space limits not applied", "err", err)
	}
	if shc.HandsOn() {
		d.ship.Add(rolledItems(running)...) // steps a log newly asks for
	}
	if d.ingest != nil {
		d.ingest.SetMaxBodyBytes(maxBodyBytes(running))
	}
	if d.syslog != nil {
		d.syslog.SetRouter(syslogRouter(running))
	}
	d.applySecurity(sec)
	d.level.Set(slogLevel(running))

	res.OK = true
	res.Warnings = append(problemStrings(warnings), secWarnings...)
	res.Changes = ctl.ChangesFrom(changes)
	res.RestartRequired = ctl.ChangesFrom(records.NeedsRestart(records.Diff(d.initial, cfg)))
	d.mu.Lock()
	d.cfg = running
	d.reloadOK++
	d.mu.Unlock()
	d.record(res)

	for _, w := range warnings {
		d.log.Warn("config warning", "where", w.String())
	}
	d.log.Info("config reloaded", "trigger", trigger, "file", res.Source, "changes", len(changes))
	for _, c := range changes {
		if c.Restart {
			d.log.Warn("config change needs a restart", "record", c.Name, "running", c.Old, "new", c.New)
		} else {
			d.log.Info("config changed", "record", c.Name, "old", c.Old, "new", c.New)
		}
	}
	return res
}

// refuse records a refused reload: the running configuration stays.
func (d *Daemon) refuse(res ctl.ReloadResult, err error) ctl.ReloadResult {
	res.OK = false
	res.Error = err.Error()
	var le *records.LoadError
	if errors.As(err, &le) {
		res.Warnings = problemStrings(le.Warnings)
	}
	d.mu.Lock()
	d.reloadNG++
	res.RestartRequired = d.last.RestartRequired
	d.mu.Unlock()
	d.record(res)
	d.log.Error("config reload refused, running configuration kept", "trigger", res.Trigger, "file", res.Source, "err", err)
	return res
}

// record keeps res as the last reload result.
func (d *Daemon) record(res ctl.ReloadResult) {
	d.mu.Lock()
	d.last = res
	d.mu.Unlock()
}

// config returns the running configuration.
func (d *Daemon) config() *records.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}
