package ingest

import (
	"bytes"
	"iter"
)

// Records holds the records of one body, as decoded by [Decode], laid out
// as a block: one contiguous run of lines, each record followed by '\n',
// which is what the log file gets and what a [BlockWriter] takes.
//
// A body costs its own bytes and at most one block, never anything per
// record: when the body is already its records' lines from its start (text
// with '\n' line ends and no empty line, compact NDJSON; trailing empty lines
// allowed), the block is a prefix of the body itself and nothing is copied;
// otherwise the records are copied, as they are decoded, into a buffer owned
// by the Records, sized once to len(body)+1, which every block fits in (a
// record is never longer than its line, and only the last line may lack its
// '\n').
//
// It is meant to be reused (pooled) across requests: once its buffer has
// grown to the size of the bodies seen, decoding allocates nothing. A
// Records is not safe for concurrent use; distinct Records may be used by
// distinct goroutines at once.
type Records struct {
	// block is the records so far, each followed by '\n': a prefix of the
	// body being decoded until owned is set, then buf's bytes.
	block []byte
	n     int  // records in block
	owned bool // block lives in buf (is not the body's prefix)

	buf  []byte // the owned block's memory; capacity >= len(body)+1 once used
	hold *hold  // where buf's and recs' growth comes from (nil: anywhere)

	// split, set by the Server for a Writer without WriteBlock, makes
	// Decode lay out no block: every record is kept as a slice in recs
	// instead, of the body as it is or of buf for JSON that had whitespace
	// removed. That is what such a Writer takes, at 24 bytes a record; a
	// block would be a copy it does not need.
	split bool
	recs  [][]byte // with split: the records, subslices of the body or buf
}

// Len returns the number of records.
func (r *Records) Len() int { return r.n }

// Size returns the total length of the records in bytes, without their
// newlines.
func (r *Records) Size() int {
	if r.split {
		n := 0
		for _, rec := range r.recs {
			n += len(rec)
		}
		return n
	}
	return len(r.block) - r.n
}

// Block returns the records as lines, each followed by '\n', none empty;
// empty when there are no records. It is either a prefix of the decoded body
// or memory of r: it stays valid until the next Decode or Reset, and only as
// long as the body's bytes are not modified or reused.
func (r *Records) Block() []byte {
	if r.split {
		return nil // not laid out
	}
	return r.block
}

// All yields the records in body order, each without its newline and with
// no spare capacity (an append to one never overwrites the next). The
// records are subslices of Block (or of the body), valid as long as it is.
func (r *Records) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if r.split {
			for _, rec := range r.recs {
				if !yield(rec) {
					return
				}
			}
			return
		}
		b := r.block
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n') // found: every line ends in one
			if !yield(b[:i:i]) {
				return
			}
			b = b[i+1:]
		}
	}
}

// Reset empties r, keeping its buffers for reuse, and drops its references
// to the last body so that a pooled Records does not keep it alive.
func (r *Records) Reset() {
	r.block, r.n, r.owned = nil, 0, false
	clear(r.recs)
	r.recs = r.recs[:0]
}

// start readies r for decoding body: an empty block at the body's start.
func (r *Records) start(body []byte) {
	r.Reset()
	r.block = body[:0]
}

// line adds the record body[start:end], input taken as it is (never holding
// '\n'), as the block's next line. While the block is still the body's
// prefix and the record extends it exactly (it starts where the block ends
// and a '\n' follows it in the body), the block just grows over it;
// otherwise the block is moved to r's own buffer first (own) and the record
// copied. With split, the record is only kept as a slice of the body. It
// returns false when memory was refused.
func (r *Records) line(body []byte, start, end int) bool {
	if r.split {
		r.n++
		return r.push(body[start:end:end])
	}
	if !r.owned {
		if start == len(r.block) && end < len(body) && body[end] == '\n' {
			r.block = body[:end+1]
			r.n++
			return true
		}
		if !r.own(body) {
			return false
		}
	}
	return r.put(len(r.block), body[start:end])
}

// put appends p and a '\n' to the owned block, ending the line that starts
// at block offset from (the record's first pieces may be in the block
// already: JSON compaction copies a record piece by piece). The block never
// outgrows the capacity own gave it (the reslice would panic first). With
// split the block holds only such records, each kept as a slice of it. It
// returns false when memory for recs was refused.
func (r *Records) put(from int, p []byte) bool {
	n := len(r.block)
	r.block = r.block[:n+len(p)+1]
	copy(r.block[n:], p)
	end := n + len(p)
	r.block[end] = '\n'
	r.n++
	return !r.split || r.push(r.block[from:end:end])
}

// own moves the block, so far the body's prefix, into r.buf, sized once for
// every block body can give (len(body)+1 bytes), taking its growth from
// r.hold. From then on records are appended to it, never reallocating. It
// returns false, changing nothing, when the memory was refused.
func (r *Records) own(body []byte) bool {
	if need := len(body) + 1; cap(r.buf) < need {
		if !r.hold.add(int64(need - cap(r.buf))) {
			return false
		}
		r.buf = make([]byte, 0, need)
	}
	r.block = append(r.buf[:0], r.block...)
	r.owned = true
	return true
}

// push appends rec to r.recs; false means the memory to grow it was
// refused.
func (r *Records) push(rec []byte) bool {
	if len(r.recs) == cap(r.recs) && !r.grow() {
		return false
	}
	r.recs = append(r.recs, rec)
	return true
}

// grow doubles the capacity of r.recs (64 entries at least), taking the
// memory from r.hold.
func (r *Records) grow() bool {
	c := max(2*cap(r.recs), 64)
	if !r.hold.add(int64(c-cap(r.recs)) * recSize) {
		return false
	}
	nr := make([][]byte, len(r.recs), c)
	copy(nr, r.recs)
	r.recs = nr
	return true
}
