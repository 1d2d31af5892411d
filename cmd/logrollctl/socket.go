package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// defaultSocket is the daemon's admin socket on its embedded defaults:
// local_state_dir "run" relative to the working directory.
const defaultSocket = "./run/logrolld.sock"

// socket finds the daemon's admin socket: -socket if given; else, with
// -config FILE, <local_state_dir>/logrolld.sock of that file; else the
// embedded default ./run/logrolld.sock.
func (e *env) socket() string {
	switch {
	case e.socketFlag != "":
		return e.socketFlag
	case e.configFile != "":
		return filepath.Join(stateDir(e.configFile), ctl.SocketName)
	}
	return defaultSocket
}

// socketOrigin says, for messages, where the socket path came from.
func (e *env) socketOrigin() string {
	if e.socketFlag == "" && e.configFile != "" {
		if _, err := records.ReadFile(e.configFile); err != nil {
			// stateDir fell back to the default "run" beside the file.
			return " (the default local_state_dir: " + err.Error() + ")"
		}
		return " (local_state_dir of " + e.configFile + ")"
	}
	return ""
}

// stateDir returns the local_state_dir of the config file at path, resolved
// against the file's folder. It must work when the file is invalid (the
// user is about to see a reload refused): then the one key is read with a
// lenient decode that ignores every other key and value, and when even that
// fails (a syntax error, a missing file), the default "run" is used.
func stateDir(path string) string {
	if cfg, _, err := records.LoadFile(path); err == nil {
		return cfg.Str(records.LocalStateDir)
	}
	dir := "run"
	if data, err := records.ReadFile(path); err == nil {
		var top map[string]any
		if _, err := toml.Decode(string(data), &top); err == nil {
			if s, ok := lookupKey(top, "proxy", "config", "local_state_dir").(string); ok {
				dir = s
			}
		}
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(path), dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

// lookupKey follows keys through nested tables; nil when one is missing.
func lookupKey(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// cause simplifies a dial error to its errno ("connection refused") and
// adds a hint when no daemon is there.
func cause(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	msg := err.Error()
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		msg += " (is logrolld running? give its -config FILE or -socket PATH;" +
			" a daemon started before local_state_dir was edited still listens on the old socket)"
	}
	return msg
}
