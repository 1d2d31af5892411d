package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Forced rolls: round-trip latency, and the stall they cause to writers.

// rollRow is the forced-roll latency of one durability through one path,
// or (Via viaExec) the cost of exec'ing logrollctl alone, timed in turn with
// that durability's rolls.
type rollRow struct {
	Durability string  `json:"durability"` // "write" (plain) or "roll" (durable)
	Via        string  `json:"via"`        // "logrollctl", "socket" or "exec only"
	Rolls      int     `json:"rolls"`      // runs timed: rolls, or execs for "exec only"
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
}

// Roll paths measured, in the order of the report.
const (
	viaCtl    = "logrollctl"
	viaSocket = "socket"
	viaExec   = "exec only" // logrollctl -h: no roll, no daemon contact
)

var rollVias = []string{viaCtl, viaSocket, viaExec}

// execOnlyArgs is what the exec-only baseline runs: logrollctl prints its
// usage on stdout and exits 0 without reading a file or opening a socket.
var execOnlyArgs = []string{"-h"}

// measureRolls starts a logrolld with durability dur and times n runs of
// each path, in turn (logrollctl, socket, exec only, logrollctl, …). Before
// each roll one small text batch is posted (so that there is something to
// roll), then the roll is timed, and the rolled file it printed is deleted,
// as a cron script would.
//
//	logrollctl: exec of `logrollctl -socket S roll access` until its exit
//	            is reaped: what a cron script waits for.
//	socket:     POST /v1/roll on the admin socket from this process
//	            (ctl.Client, a new connection each): the daemon's own part,
//	            which the target is read from.
//	exec only:  exec of `logrollctl -h` until its exit is reaped: starting
//	            the binary, no roll; logrollctl ≈ exec only + socket.
func measureRolls(ctx context.Context, e *env, dur string, n int) ([]rollRow, error) {
	dir, err := e.tempDir("roll-" + dur)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := startDaemon(e.logrolld, dir, e.daemonOpts(dur))
	if err != nil {
		return nil, err
	}
	defer d.kill()
	hc := newConnClient(nil)
	defer hc.CloseIdleConnections()
	small := makeBatches(FormatText, e.seed+100, 1, 10)[0]
	cl := ctl.NewClient(d.socket)
	lat := map[string][]time.Duration{}
	for i := 0; i < len(rollVias)*n; i++ {
		via := rollVias[i%len(rollVias)]
		if via == viaExec {
			stdout, stderr, took, err := runShort(ctx, e.logrollctl, execOnlyArgs...)
			if err != nil {
				return nil, fmt.Errorf("logrollctl %s: %v: %s", strings.Join(execOnlyArgs, " "), err, strings.TrimSpace(stderr))
			}
			if !strings.Contains(stdout, "\nusage: logrollctl") && !strings.HasPrefix(stdout, "usage: logrollctl") {
				return nil, fmt.Errorf("logrollctl %s printed %.40q, want its usage", strings.Join(execOnlyArgs, " "), stdout)
			}
			lat[via] = append(lat[via], took)
			continue
		}
		if err := post(ctx, hc, d.url(), FormatText.contentType(), "", small, true); err != nil {
			return nil, err
		}
		var paths []string
		var took time.Duration
		if via == viaCtl {
			stdout, stderr, t, err := runShort(ctx, e.logrollctl, "-socket", d.socket, "roll", "access")
			if err != nil {
				return nil, fmt.Errorf("logrollctl roll: %v: %s", err, strings.TrimSpace(stderr))
			}
			paths, took = strings.Fields(stdout), t
		} else {
			t0 := time.Now()
			resp, err := cl.Roll(ctx, []string{"access"})
			took = time.Since(t0)
			if err == nil && len(resp.Errors) > 0 {
				err = errors.New(strings.Join(resp.Errors, "; "))
			}
			if err != nil {
				return nil, fmt.Errorf("roll through the admin socket: %w", err)
			}
			for _, f := range resp.Rolled {
				paths = append(paths, f.Path)
			}
		}
		if len(paths) != 1 {
			return nil, fmt.Errorf("roll via %s: rolled %q, want one file", via, paths)
		}
		if err := os.Remove(paths[0]); err != nil {
			return nil, err
		}
		lat[via] = append(lat[via], took)
	}
	var rows []rollRow
	for _, via := range rollVias {
		l := lat[via]
		rows = append(rows, rollRow{Durability: dur, Via: via, Rolls: len(l),
			P50ms: ms(percentile(l, 50)), P99ms: ms(percentile(l, 99)), MaxMs: ms(slices.Max(l))})
	}
	return rows, d.stop(10 * time.Second)
}

// span is a time interval [from, to].
type span struct{ from, to time.Time }

func (s span) overlaps(o span) bool { return s.from.Before(o.to) && o.from.Before(s.to) }

// stallResult is the writer-stall measurement.
type stallResult struct {
	Durability string  `json:"durability"`
	Seconds    float64 `json:"seconds"`
	Conns      int     `json:"conns"`
	Batch      int     `json:"batch"`
	Rolls      int     `json:"rolls"`
	RollP50ms  float64 `json:"roll_p50_ms"` // roll round trip (admin socket)
	RollMaxMs  float64 `json:"roll_max_ms"`
	// Requests overlapping a roll, and the others.
	During  int `json:"requests_during_rolls"`
	Outside int `json:"requests_outside_rolls"`
	// Latencies of the requests.
	MaxDuringMs  float64 `json:"max_during_ms"`
	P50OutsideMs float64 `json:"p50_outside_ms"`
	P99OutsideMs float64 `json:"p99_outside_ms"`
	MaxOutsideMs float64 `json:"max_outside_ms"`
	// StallMs is the longest stall attributed to a roll: the longest
	// latency of a request overlapping a roll minus the median latency of
	// the requests outside rolls. NoiseMs is the same for the requests
	// outside rolls (their max minus their median): what the machine adds
	// without any roll.
	StallMs float64 `json:"stall_ms"`
	NoiseMs float64 `json:"noise_ms"`
	// PauseMaxMs is the daemon's own figure: the longest time one roll held
	// the log's writer token, during which Write calls to it waited
	// (proxy.process.log.roll_pause_max_seconds{log="access.log"}, read
	// after the run), and PauseP50Ms the mean pause. The target is read
	// from it: on 2 shared cores the client-side figures above carry
	// several milliseconds of scheduling noise (NoiseMs) even without rolls.
	PauseMaxMs  float64 `json:"pause_max_ms"`
	PauseMeanMs float64 `json:"pause_mean_ms"`
}

// analyzeStall splits requests into those overlapping a roll and the others
// and computes the stall figures (pure: unit-tested).
func analyzeStall(reqs, rolls []span) stallResult {
	var during, outside []time.Duration
	for _, r := range reqs {
		lat := r.to.Sub(r.from)
		hit := false
		for _, ro := range rolls {
			if r.overlaps(ro) {
				hit = true
				break
			}
		}
		if hit {
			during = append(during, lat)
		} else {
			outside = append(outside, lat)
		}
	}
	res := stallResult{Rolls: len(rolls), During: len(during), Outside: len(outside)}
	slices.Sort(outside)
	p50 := percentileSorted(outside, 50)
	res.P50OutsideMs = ms(p50)
	res.P99OutsideMs = ms(percentileSorted(outside, 99))
	if len(outside) > 0 {
		res.MaxOutsideMs = ms(outside[len(outside)-1])
		res.NoiseMs = ms(outside[len(outside)-1] - p50)
	}
	if len(during) > 0 {
		mx := slices.Max(during)
		res.MaxDuringMs = ms(mx)
		res.StallMs = ms(max(mx-p50, 0))
	}
	var rl []time.Duration
	for _, ro := range rolls {
		rl = append(rl, ro.to.Sub(ro.from))
	}
	if len(rl) > 0 {
		res.RollP50ms = ms(percentile(rl, 50))
		res.RollMaxMs = ms(slices.Max(rl))
	}
	return res
}

// Stall measurement parameters: writers posting small batches continuously.
const (
	stallConns = 2
	stallBatch = 100
)

// measureStall starts a logrolld with durability dur; stallConns
// connections post text batches of stallBatch records back to back for
// length, while a forced roll (POST /v1/roll on the admin socket, from this
// process so that no exec competes for the CPU) happens every second from
// 0.5 s on. Every request's span and every roll's span are recorded, then
// analyzeStall attributes request latencies to rolls.
func measureStall(ctx context.Context, e *env, dur string, length time.Duration) (stallResult, error) {
	dir, err := e.tempDir("stall-" + dur)
	if err != nil {
		return stallResult{}, err
	}
	defer os.RemoveAll(dir)
	d, err := startDaemon(e.logrolld, dir, e.daemonOpts(dur))
	if err != nil {
		return stallResult{}, err
	}
	defer d.kill()
	bodies := makeBatches(FormatText, e.seed+200, 64, stallBatch)
	cl := ctl.NewClient(d.socket)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Warm up each connection.
	clients := make([]*http.Client, stallConns)
	for i := range clients {
		clients[i] = newConnClient(nil)
		defer clients[i].CloseIdleConnections()
		if err := post(ctx, clients[i], d.url(), FormatText.contentType(), "", bodies[0], true); err != nil {
			return stallResult{}, err
		}
	}
	start := time.Now()
	end := start.Add(length)
	var wg sync.WaitGroup
	reqs := make([][]span, stallConns)
	for i, c := range clients {
		wg.Go(func() {
			for n := i; time.Now().Before(end) && ctx.Err() == nil; n += stallConns {
				t0 := time.Now()
				if err := post(ctx, c, d.url(), FormatText.contentType(), "", bodies[n%len(bodies)], true); err != nil {
					cancel(err)
					return
				}
				reqs[i] = append(reqs[i], span{t0, time.Now()})
			}
		})
	}
	var rolls []span
	for next := start.Add(500 * time.Millisecond); next.Before(end.Add(-100*time.Millisecond)) && ctx.Err() == nil; next = next.Add(time.Second) {
		select {
		case <-time.After(time.Until(next)):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		resp, err := cl.Roll(ctx, []string{"access"})
		t1 := time.Now()
		if err == nil && len(resp.Errors) > 0 {
			err = errors.New(strings.Join(resp.Errors, "; "))
		}
		if err != nil {
			cancel(fmt.Errorf("roll: %w", err))
			break
		}
		rolls = append(rolls, span{t0, t1})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return stallResult{}, err
	}
	var all []span
	for _, r := range reqs {
		all = append(all, r...)
	}
	res := analyzeStall(all, rolls)
	res.Durability, res.Seconds, res.Conns, res.Batch = dur, length.Seconds(), stallConns, stallBatch
	if res.PauseMaxMs, res.PauseMeanMs, err = rollPauses(ctx, cl); err != nil {
		return res, err
	}
	return res, d.stop(30 * time.Second)
}

// rollPauses reads the daemon's roll pause metrics of access.log: the
// longest pause and the mean, in milliseconds.
func rollPauses(ctx context.Context, cl *ctl.Client) (maxMs, meanMs float64, err error) {
	ms, err := cl.Metrics(ctx, []string{"proxy.process.log.roll_pause_max_seconds", "proxy.process.log.roll_pause_seconds", "proxy.process.log.roll_pauses"}, "")
	if err != nil {
		return 0, 0, fmt.Errorf("roll pause metrics: %w", err)
	}
	var total, n float64
	found := false
	for _, m := range ms {
		if m.Labels["log"] != "access.log" {
			continue
		}
		switch m.Name {
		case "proxy.process.log.roll_pause_max_seconds":
			maxMs, found = m.Value*1e3, true
		case "proxy.process.log.roll_pause_seconds":
			total = m.Value
		case "proxy.process.log.roll_pauses":
			n = m.Value
		}
	}
	if !found {
		return 0, 0, errors.New("roll pause metrics: no series for access.log")
	}
	if n > 0 {
		meanMs = total / n * 1e3
	}
	return maxMs, meanMs, nil
}
