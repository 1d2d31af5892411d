package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/logging/ingest"
	"github.com/logroll/logroll/logging/ingest/syslog"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/ship"
	"github.com/logroll/logroll/space"
)

// Options configure a Daemon. Zero values select the defaults.
type Options struct {
	// ConfigPath is the records.toml to load; "" runs on the embedded defaults.
	ConfigPath string
	// Stderr receives the daemon's diagnostics (log/slog text); default os.Stderr.
	Stderr io.Writer
	// Now is the clock; default time.Now.
	Now func() time.Time
	// StopTimeout bounds how long Shutdown waits for in-flight ingest requests
	// before closing their connections; default 4 s.
	StopTimeout time.Duration
}

// Daemon is a running logrolld: the collator, the ingest server, the admin
// server and the config watcher.
//
// Goroutines: Start starts the ingest server's and the admin server's accept
// loops and the watcher (each owns its goroutines); Shutdown stops all of them
// and closes the collator, which stops the writers. A writer that creates
// the removed log folder again calls relock (the collator's
// OnDirRecreated), which takes the folder lock again under the lock's own
// mutex. Every method is safe for concurrent use; reloads are serialised
// (reload.go).
type Daemon struct {
	opts    Options
	log     *slog.Logger
	level   *slog.LevelVar
	started time.Time

	coll   *logging.Collator
	space  *space.Manager
	ship   *ship.Manager
	ingest *ingest.Server // also without http_listen: the admin socket serves its log endpoint
	syslog *syslog.Server // nil when neither syslog listener is configured
	admin  *ctl.Server
	adminL net.Listener // closed by closeAll too: Serve may not have taken it yet
	lock   *dirLock
	watch  *records.Watcher

	listen string // the ingest listener's address, "" when disabled

	syslogTCP, syslogUDP string // the syslog listeners' addresses, "" when disabled

	remote        *remoteAdmin // the remote admin listener, nil when off (adminhttp.go)
	adminHTTPAddr string
	socket        string

	sec atomic.Pointer[security] // TLS and tokens, swapped on reload (tls.go)

	reloadMu sync.Mutex // serialises reloads (the one reload path)
	mu       sync.Mutex // guards cfg, last, counters below
	initial  *records.Config
	cfg      *records.Config
	last     ctl.ReloadResult
	reloadOK int64
	reloadNG int64

	serveErr chan error // the servers' unexpected failures
	stopOnce sync.Once
	stopErr  error
	stopping chan struct{}
}

// Start loads the configuration and starts the daemon. An invalid
// configuration returns the *records.LoadError unchanged, and one the
// machine cannot run (Check) a *CheckError: logrolld exits 2 with either.
// Start refuses to run while another daemon answers on the admin socket
// (an error wrapping ctl.ErrInUse), or holds the log folder's lock, and
// then touches no log file.
func Start(opts Options) (_ *Daemon, err error) {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 4 * time.Second
	}
	if opts.ConfigPath != "" {
		// Absolute, so that logrollctl config diff finds the file from any folder.
		if abs, aerr := filepath.Abs(opts.ConfigPath); aerr == nil {
			opts.ConfigPath = abs
		}
	}
	// Read once: the same bytes are loaded and become the watcher's
	// baseline, so that a save between two reads cannot go unnoticed.
	var data []byte
	if opts.ConfigPath != "" {
		if data, err = records.ReadFile(opts.ConfigPath); err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
	}
	cfg, warnings, err := load(opts.ConfigPath, data)
	if err != nil {
		return nil, err
	}
	if err = Check(cfg); err != nil { // what the steps below would fail on, every problem at once (check.go)
		return nil, err
	}
	// The TLS and tokens files, before anything starts (tls.go).
	sec, secWarnings, err := loadSecurity(cfg, opts.Now())
	if err != nil {
		return nil, err
	}
	level := new(slog.LevelVar)
	level.Set(slogLevel(cfg))
	d := &Daemon{
		opts:     opts,
		level:    level,
		log:      slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: level})),
		started:  opts.Now(),
		initial:  cfg,
		cfg:      cfg,
		serveErr: make(chan error, 8),
		stopping: make(chan struct{}),
	}
	for _, w := range warnings {
		d.log.Warn("config warning", "where", w.String())
	}
	for _, w := range secWarnings {
		d.log.Warn("tokens file", "warning", w)
	}
	d.last = ctl.ReloadResult{Time: d.started, Trigger: "start", Source: cfg.Source, OK: true, Warnings: problemStrings(warnings)}

	// Undo whatever started when a later step fails.
	defer func() {
		if err != nil {
			d.closeAll(context.Background())
		}
	}()

	// The socket first: a second daemon must be refused before it touches
	// the first one's files.
	d.socket = filepath.Join(cfg.Str(records.LocalStateDir), ctl.SocketName)
	adminL, err := ctl.Listen(d.socket)
	if err != nil {
		if errors.Is(err, ctl.ErrInUse) {
			return nil, fmt.Errorf("admin socket: %w", err)
		}
		return nil, &ConfigError{Where: cfg.Where(records.LocalStateDir), Record: records.LocalStateDir, Err: fmt.Errorf("admin socket: %w", err)}
	}
	dir := cfg.Str(records.LogfileDir)
	if d.lock, err = lockDir(dir); err != nil {
		adminL.Close()
		if errors.Is(err, ErrFolderLocked) {
			return nil, err
		}
		return nil, &ConfigError{Where: cfg.Where(records.LogfileDir), Record: records.LogfileDir, Err: err}
	}
	d.admin = ctl.NewServer(d, d.log)
	// Two steps, so that nothing is called before it exists: the collator
	// opens and repairs the files and makes its catch-up rolls (New: no
	// goroutine, no hook); the space manager then scans what it left and
	// may tell it to refuse (SetAccepting works before Start); only then do
	// the writers start, and with them the hooks into the space manager,
	// which owns every deletion.
	d.coll, err = logging.New(collatorConfig(cfg), logging.Options{
		Now:          opts.Now,
		Logger:       d.log,
		OnWrite:      func(n int64) { d.space.Wrote(n) },
		OnWriteError: func(error) { d.space.WriteFailed() },
		OnRoll: func(r logging.Rolled) {
			d.space.Rolled(r.Path)
			d.ship.Rolled(r.Path)
		},
		OnDirRecreated: func() {
			d.relock()
			d.space.Rewatch()
		},
	})
	if err != nil {
		adminL.Close()
		return nil, fmt.Errorf("open log folder: %w", err)
	}
	// The ship manager before the space manager, whose first check asks it
	// which files wait to be handed on; it starts after it, since it tells
	// the space manager what was handed on.
	if d.ship, err = d.newShip(cfg); err != nil {
		adminL.Close()
		return nil, fmt.Errorf("hand-on (ship) manager: %w", err)
	}
	d.space, err = space.New(spaceConfig(cfg, dir), space.Options{
		Now: opts.Now, Accept: d.coll.SetAccepting, Logger: d.log, Watch: true, Hold: d.ship.Hold, DeletedUnhanded: d.ship.Forget,
	})
	if err != nil {
		adminL.Close()
		return nil, fmt.Errorf("space manager: %w", err)
	}
	d.ship.Start()
	d.coll.Start()
	// The ingest server always exists: the admin socket serves its log
	// endpoint to `logrollctl pipe`, with or without the HTTP listener.
	d.ingest = ingest.NewServer(d.coll, ingest.ServerConfig{
		MaxBodyBytes: maxBodyBytes(cfg),
		Metrics:      d.metricsHandler(),
		Logger:       d.log,
	})
	d.admin.SetLogs(d.ingest.Handler())
	d.applySecurity(sec)
	var ingestL net.Listener
	if addr := cfg.Str(records.HTTPListen); addr != "" {
		if ingestL, err = net.Listen("tcp", addr); err != nil {
			adminL.Close()
			return nil, fmt.Errorf("ingest listener (%s): %w", records.HTTPListen, err)
		}
		d.listen = ingestL.Addr().String()
		ingestL = &tlsListener{Listener: newLimitListener(ingestL, maxIngestConns), sec: &d.sec}
	}

	sysL, err := d.listenSyslog(cfg)
	if err != nil {
		adminL.Close()
		if ingestL != nil {
			ingestL.Close()
		}
		return nil, err
	}
	remoteL, err := d.listenRemoteAdmin(cfg)
	if err != nil {
		adminL.Close()
		if ingestL != nil {
			ingestL.Close()
		}
		sysL.close()
		return nil, err
	}

	if cfg.Source != "" {
		d.watch, err = records.NewWatcher(cfg.Source, records.WatchOptions{
			OnChange: d.onWatch,
			Logger:   d.log,
			Initial:  data,
		})
		if err != nil {
			// Reload by SIGHUP and logrollctl still works.
			d.log.Warn("config file not watched", "file", cfg.Source, "err", err)
			err = nil
		}
	}

	d.adminL = adminL
	go d.serve("admin", func() error { return d.admin.Serve(adminL) })
	if ingestL != nil {
		go d.serve("ingest", func() error { return d.ingest.Serve(ingestL) })
	}
	d.serveSyslog(sysL)
	if remoteL != nil {
		go d.serve("remote admin", func() error { return d.remote.serve(remoteL) })
	}
	d.announce(cfg)
	return d, nil
}

// relock takes the log folder's lock again after someone removed the
// folder and the collator created it anew (the collator's
// OnDirRecreated, on a writer goroutine): the lock file went with the old
// folder, and without a new one a second logrolld could start on the
// recreated folder. If another process already holds the new folder's
// lock, two daemons now write the same folder: that is logged as an error,
// and logging goes on.
func (d *Daemon) relock() {
	path := filepath.Join(d.lock.dir, LockName)
	switch took, err := d.lock.retake(); {
	case errors.Is(err, ErrFolderLocked):
		d.log.Error("the recreated log folder is locked by another logrolld: two daemons now write the same files; stop one of them", "path", path, "err", err)
	case err != nil:
		d.log.Error("cannot lock the recreated log folder: another logrolld could start on it", "path", path, "err", err)
	case took:
		d.log.Info("log folder lock taken again in the recreated folder", "path", path)
	}
}

// announce prints one line per endpoint, whatever the log level.
func (d *Daemon) announce(cfg *records.Config) {
	out := slog.New(slog.NewTextHandler(d.opts.Stderr, nil))
	source := cfg.Source
	if source == "" {
		source = "embedded defaults"
	}
	tz, tzSet := os.LookupEnv("TZ")
	out.Info("logrolld writing logs", "dir", cfg.Str(records.LogfileDir), "logs", d.coll.Logs(), "host", cfg.Hostname(), "config", source, "zone", zoneDesc(tz, tzSet, time.Now()))
	if err := checkTZ(tz); err != nil {
		out.Warn("TZ names no time zone this machine has: rolled names and clock rolls are in UTC", "TZ", tz, "err", err)
	}
	if d.listen != "" {
		sch := d.scheme()
		out.Info("logrolld ingest listening", "addr", d.listen, "post", sch+"://"+d.listen+"/v1/logs/{name}", "metrics", sch+"://"+d.listen+"/metrics", "tokens", d.sec.Load().tokens != nil)
	} else {
		out.Info("logrolld ingest disabled", "record", records.HTTPListen)
	}
	if d.syslogTCP != "" {
		out.Info("logrolld syslog listening", "transport", "tcp", "addr", d.syslogTCP)
	}
	if d.syslogUDP != "" {
		out.Info("logrolld syslog listening", "transport", "udp", "addr", d.syslogUDP)
	}
	if d.adminHTTPAddr != "" {
		out.Info("logrolld remote admin listening", "addr", d.adminHTTPAddr, "url", "https://"+d.adminHTTPAddr+"/v1/{roll,rolled,status}")
	}
	out.Info("logrolld admin socket listening", "socket", d.socket)
}

// serve runs a server's accept loop and reports an unexpected end.
func (d *Daemon) serve(name string, run func() error) {
	if err := run(); err != nil {
		select {
		case <-d.stopping:
		default:
			d.log.Error("server stopped", "server", name, "err", err)
			d.serveErr <- fmt.Errorf("%s server: %w", name, err)
		}
	}
}

// Failed delivers an error when a server stops unexpectedly; logrolld then
// shuts down and exits 1.
func (d *Daemon) Failed() <-chan error { return d.serveErr }

// IngestAddr returns the ingest listener's address ("" when disabled).
func (d *Daemon) IngestAddr() string { return d.listen }

// Socket returns the admin socket's path.
func (d *Daemon) Socket() string { return d.socket }

// Logger returns the daemon's diagnostics logger (level from diags.level).
func (d *Daemon) Logger() *slog.Logger { return d.log }

// Reopen reopens active files moved away by an external tool (SIGUSR2).
func (d *Daemon) Reopen() error {
	err := d.coll.Reopen()
	if err != nil {
		d.log.Error("reopen failed", "err", err)
	} else {
		d.log.Info("active files reopened")
	}
	return err
}

// Shutdown stops the daemon gracefully (SIGTERM): ingest stops accepting
// (new requests get 503 with Retry-After) and in-flight requests are answered;
// then every accepted record is written and synced and the files closed; no
// roll happens. It is idempotent and returns the first failure.
func (d *Daemon) Shutdown() error {
	d.stopOnce.Do(func() {
		close(d.stopping)
		ctx, cancel := context.WithTimeout(context.Background(), d.opts.StopTimeout)
		defer cancel()
		d.stopErr = d.closeAll(ctx)
	})
	return d.stopErr
}

// closeAll stops whatever was started, in order: ingest (answering in-flight
// requests), the watcher, the admin server, the collator, the ship manager
// (uploads and commands in flight are cancelled, and done again after the
// restart), the space manager, the lock.
func (d *Daemon) closeAll(ctx context.Context) error {
	var errs []error
	// Syslog stops beside ingest, on the same budget: both finish what
	// they read before the collator closes.
	sysDone := make(chan error, 1)
	go func() { sysDone <- d.stopSyslog(ctx) }()
	if d.ingest != nil {
		if err := d.ingest.Shutdown(ctx); errors.Is(err, ingest.ErrStopTimeout) {
			// Cut-off requests wrote nothing, or are finished by the
			// collator's Close below: nothing accepted is lost.
			d.log.Warn("stop timeout: closed ingest connections still in flight", "err", err)
		} else if err != nil {
			errs = append(errs, fmt.Errorf("stop ingest: %w", err))
		}
	}
	if err := <-sysDone; err != nil {
		errs = append(errs, fmt.Errorf("stop syslog: %w", err))
	}
	if d.remote != nil {
		if err := d.remote.shutdown(ctx); err != nil {
			d.log.Warn("stop timeout: closed remote admin connections still in flight", "err", err)
		}
	}
	if d.watch != nil {
		errs = append(errs, d.watch.Close())
	}
	if d.admin != nil {
		// Its own budget: the ingest stop may have used all of ctx's.
		actx, cancel := context.WithTimeout(context.Background(), d.opts.StopTimeout)
		if err := d.admin.Shutdown(actx); err != nil {
			d.log.Warn("stop timeout: closed admin connections still in flight", "err", err)
		}
		cancel()
		if d.adminL != nil {
			d.adminL.Close() // removes the socket, even if Serve never ran
		}
	}
	if d.coll != nil {
		if err := d.coll.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close logs: %w", err))
		}
	}
	if d.ship != nil {
		errs = append(errs, d.ship.Close())
	}
	if d.space != nil {
		errs = append(errs, d.space.Close())
	}
	if d.lock != nil {
		errs = append(errs, d.lock.release())
	}
	return errors.Join(errs...)
}

// load loads data read from path, or returns the embedded defaults for "".
func load(path string, data []byte) (*records.Config, []records.Warning, error) {
	if path == "" {
		return records.Defaults(), nil, nil
	}
	return records.Load(data, path)
}

// slogLevel maps proxy.config.diags.level onto a slog level.
func slogLevel(c *records.Config) slog.Level {
	switch c.Int(records.DiagsLevel) {
	case 0:
		return slog.LevelDebug
	case 2:
		return slog.LevelWarn
	case 3:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func problemStrings(ps []records.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
