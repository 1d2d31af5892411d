package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/logroll/logroll/logging/ingest/syslog"
	"github.com/logroll/logroll/records"
)

// The syslog input (docs/design.md §12, docs/syslog.md): [proxy.config.syslog]
// udp_listen and tcp_listen, off by default. The listeners are opened by
// listenSyslog during Start (a port that cannot be bound fails the start),
// served by serveSyslog once everything else is up, stopped first by
// closeAll (with the ingest port) so that every message read is written
// before the collator closes, and rerouted by apply on reload.

// syslogListeners are the sockets listenSyslog opened, until served.
type syslogListeners struct {
	tcp net.Listener
	udp *net.UDPConn
}

// listenSyslog opens the configured syslog sockets and creates d.syslog;
// with neither configured it does nothing.
func (d *Daemon) listenSyslog(cfg *records.Config) (*syslogListeners, error) {
	tcpAddr, udpAddr := cfg.Str(records.SyslogTCPListen), cfg.Str(records.SyslogUDPListen)
	if tcpAddr == "" && udpAddr == "" {
		return nil, nil
	}
	ls := &syslogListeners{}
	if tcpAddr != "" {
		l, err := net.Listen("tcp", tcpAddr)
		if err != nil {
			return nil, fmt.Errorf("syslog TCP listener (%s): %w", records.SyslogTCPListen, err)
		}
		ls.tcp = l
		d.syslogTCP = l.Addr().String()
	}
	if udpAddr != "" {
		ua, err := net.ResolveUDPAddr("udp", udpAddr)
		if err == nil {
			ls.udp, err = net.ListenUDP("udp", ua)
		}
		if err != nil {
			if ls.tcp != nil {
				ls.tcp.Close()
			}
			return nil, fmt.Errorf("syslog UDP listener (%s): %w", records.SyslogUDPListen, err)
		}
		d.syslogUDP = ls.udp.LocalAddr().String()
	}
	d.syslog = syslog.New(syslog.Config{
		Writer:     d.coll,
		Router:     syslogRouter(cfg),
		MaxMessage: int(cfg.Int(records.SyslogMaxMessage)),
		Logger:     d.log,
	})
	return ls, nil
}

// close closes listeners that were never served (a later start step failed).
func (ls *syslogListeners) close() {
	if ls == nil {
		return
	}
	if ls.tcp != nil {
		ls.tcp.Close()
	}
	if ls.udp != nil {
		ls.udp.Close()
	}
}

// serveSyslog starts serving the sockets listenSyslog opened.
func (d *Daemon) serveSyslog(ls *syslogListeners) {
	if ls == nil {
		return
	}
	if ls.tcp != nil {
		go d.serve("syslog tcp", func() error { return d.syslog.ServeTCP(ls.tcp) })
	}
	if ls.udp != nil {
		go d.serve("syslog udp", func() error { return d.syslog.ServeUDP(ls.udp) })
	}
}

// stopSyslog stops the syslog server: connections finish their frame and
// write what they read, within ctx.
func (d *Daemon) stopSyslog(ctx context.Context) error {
	if d.syslog == nil {
		return nil
	}
	err := d.syslog.Shutdown(ctx)
	if errors.Is(err, syslog.ErrStopTimeout) {
		d.log.Error("stop timeout: syslog messages read while the log space was exhausted were not written", "err", err)
		return nil
	}
	return err
}

// syslogRouter builds the routing of a configuration: app names and
// facilities listed in [[logs]] tables, the rest to proxy.config.syslog.log
// (validated as declared when a listener is on).
func syslogRouter(cfg *records.Config) *syslog.Router {
	def := records.ActiveName(cfg.Str(records.SyslogLog))
	if l, ok := cfg.Log(cfg.Str(records.SyslogLog)); ok {
		def = l.Filename
	}
	r := syslog.NewRouter(def)
	for i := range cfg.Logs {
		l := &cfg.Logs[i]
		for _, app := range l.SyslogAppNames {
			r.App(app, l.Filename)
		}
		for _, f := range l.SyslogFacilities {
			if code, ok := records.SyslogFacility(f); ok {
				r.Facility(code, l.Filename)
			}
		}
	}
	return r
}
