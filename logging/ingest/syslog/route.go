package syslog

// Router says which log a message goes to (docs/syslog.md "Routing"): the
// log whose syslog_app_name lists the message's app name, else the log
// whose syslog_facility lists its facility, else the default log
// (proxy.config.syslog.log). App names are matched exactly (case
// matters, as in RFC 5424). A Router is immutable once built: the daemon
// builds a new one on reload and swaps it in.
type Router struct {
	def      string
	apps     map[string]string
	facility [24]string
}

// NewRouter returns a Router sending everything to def, the active name of
// the default log ("syslog.log").
func NewRouter(def string) *Router {
	return &Router{def: def}
}

// App routes messages whose app name is app to log (an active name).
func (r *Router) App(app, log string) *Router {
	if r.apps == nil {
		r.apps = map[string]string{}
	}
	r.apps[app] = log
	return r
}

// Facility routes messages of facility code (0–23) to log.
func (r *Router) Facility(code int, log string) *Router {
	if code >= 0 && code < len(r.facility) {
		r.facility[code] = log
	}
	return r
}

// Route returns the active name of the log m goes to.
func (r *Router) Route(m Message) string {
	if m.AppName != "" && r.apps != nil {
		if l, ok := r.apps[m.AppName]; ok {
			return l
		}
	}
	if m.Facility >= 0 && m.Facility < len(r.facility) && r.facility[m.Facility] != "" {
		return r.facility[m.Facility]
	}
	return r.def
}

// Default returns the default log's active name.
func (r *Router) Default() string { return r.def }
