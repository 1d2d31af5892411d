package ctl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// pipeWindow is the most requests in flight with a PipelinedPoster: the
// next request is written (into the socket's buffer) while the daemon
// handles the one before, so that it never waits for a round trip.
const pipeWindow = 2

// pipeRequest is one request's lines: chunks taken from the queue.
type pipeRequest struct {
	chunks []pipeChunk
	bodies [][]byte
	lines  int64
	size   int
}

func newPipeRequest(chunks []pipeChunk) *pipeRequest {
	r := &pipeRequest{chunks: chunks, bodies: make([][]byte, len(chunks))}
	for i, c := range chunks {
		r.bodies[i] = c.b
		r.size += len(c.b)
		r.lines += c.lines
	}
	return r
}

// send posts what the queue holds until it is closed and empty, or ctx
// ended and Drain passed, or a refusal no retry can change. Requests are
// delivered in the order read: with a PipelinedPoster that says so, up to
// pipeWindow are in flight, and when one is refused, it and every one
// after it are sent again, in order (the daemon processed none of those).
func (p *pipe) send(ctx context.Context) error {
	pp, _ := p.cfg.Poster.(PipelinedPoster)
	r := &retrier{p: p, ctx: ctx, backoff: pipeRetryMin}
	var todo []*pipeRequest // taken from the queue and not delivered, in order
	sent := 0               // todo[:sent] are written, their answers not read
	for {
		// Take more lines while the window has room.
		for len(todo) < pipeWindow && (len(todo) == 0 || pp != nil && pp.Pipelined()) {
			chunks, ok := p.q.take(p.cfg.Batch, len(todo) == 0)
			if !ok {
				break
			}
			todo = append(todo, newPipeRequest(chunks))
		}
		if len(todo) == 0 {
			return nil // closed and empty
		}
		if pp == nil {
			_, err := p.cfg.Poster.PostLines(r.reqCtx(), p.cfg.Log, todo[0].bodies)
			r.cancel()
			if err == nil {
				p.delivered(todo[0], r)
				todo = todo[1:]
				continue
			}
			if err := r.failed(err); err != nil {
				return err
			}
			continue
		}
		// Write those not written yet, as far as the daemon allows.
		var sendErr error
		for sent < len(todo) && (sent == 0 || pp.Pipelined()) {
			sendErr = pp.Send(r.reqCtx(), p.cfg.Log, todo[sent].bodies)
			r.cancel()
			if sendErr != nil {
				break
			}
			sent++
		}
		if sent == 0 {
			if err := r.failed(sendErr); err != nil {
				return err
			}
			continue
		}
		_, err := pp.Recv(r.reqCtx())
		r.cancel()
		if err == nil {
			p.delivered(todo[0], r)
			todo, sent = todo[1:], sent-1
			continue
		}
		sent = 0 // every request written is to be written again
		lost := answerLost(err)
		if err := r.failed(err); err != nil {
			return err
		}
		if lost != "" {
			// todo[0] was written whole (Send succeeded): sent again,
			// it may be written twice.
			p.count(func(st *PipeStats) { st.Unanswered += todo[0].lines })
			p.cfg.Warn(fmt.Sprintf(lost+" (%v); sending them again: if it had written them, they are now written twice", todo[0].lines, err))
		}
	}
}

// answerLost returns, as a format for the request's line count, why err,
// the failure to read the answer of a request written whole, leaves the
// request's fate unknown: the daemon went away (killed, or the connection
// cut) or did not answer in time, and may have written its lines before.
// They are sent again all the same, since losing them is worse: this is
// the one way the pipe writes lines twice (docs/pipe.md, "at least once").
// It returns "" for an answer (a refusal wrote nothing) and for a daemon
// that could not be reached.
func answerLost(err error) string {
	var re *RemoteError
	var ue *UnreachableError
	switch {
	case err == nil || errors.As(err, &re) || errors.As(err, &ue):
		return ""
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "logrolld did not answer within " + pipeRequestDeadline.String() + " a request of %d lines"
	}
	return "logrolld went away without answering a request of %d lines"
}

// delivered accounts for a request answered 200 and releases its lines.
func (p *pipe) delivered(req *pipeRequest, r *retrier) {
	if r.failing != "" {
		p.cfg.Warn(fmt.Sprintf("delivering again (%d lines held)", p.q.lines()))
		r.failing = ""
	}
	r.backoff = pipeRetryMin
	p.mu.Lock()
	p.st.Lines += req.lines
	p.st.Bytes += int64(req.size)
	p.st.Requests++
	p.mu.Unlock()
	p.q.done(req.chunks)
}

// retrier paces the retries of refused requests: a pause doubling from
// pipeRetryMin to pipeRetryMax, a warning once per cause, and, once ctx
// ended, at most Drain more of them.
type retrier struct {
	p        *pipe
	ctx      context.Context
	backoff  time.Duration
	failing  string // the cause last warned about; "" once delivering
	drainEnd <-chan time.Time
	cancel   context.CancelFunc
}

// reqCtx returns the context of one write or read: pipeRequestDeadline,
// not cut by ctx (lines read are still offered during the drain). The
// caller calls r.cancel after it.
func (r *retrier) reqCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), pipeRequestDeadline)
	r.cancel = cancel
	return ctx
}

// failed handles a refused or failed request: nil once it is time to send
// again, an error when no retry can change the answer (400, 413, 415) or
// the drain after ctx ended is over.
func (r *retrier) failed(err error) error {
	p := r.p
	var re *RemoteError
	if errors.As(err, &re) && (re.Status == http.StatusBadRequest || re.Status == http.StatusUnsupportedMediaType || re.Status == http.StatusRequestEntityTooLarge) {
		return fmt.Errorf("logrolld refused the lines for good: %w", err)
	}
	p.count(func(st *PipeStats) { st.Retries++ })
	if why := retryReason(err); why != r.failing {
		r.failing = why
		p.cfg.Warn(fmt.Sprintf("%s; holding %d lines and retrying", why, p.q.lines()))
	}
	if r.drainEnd == nil && r.ctx.Err() != nil {
		r.drainEnd = time.After(p.cfg.Drain)
	}
	t := time.NewTimer(r.backoff)
	defer t.Stop()
	stopped := r.ctx.Done()
	if r.drainEnd != nil {
		stopped = nil // draining: ctx ended already; the backoff still holds
	}
	select {
	case <-t.C:
	case <-stopped:
		if r.drainEnd == nil {
			r.drainEnd = time.After(p.cfg.Drain)
		}
	case <-r.drainEnd:
		return fmt.Errorf("stopped with the daemon still refusing: %w", err)
	}
	r.backoff = min(2*r.backoff, pipeRetryMax)
	return nil
}
