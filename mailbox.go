package registry

import (
	"context"
	"sync"
	"sync/atomic"
)

// OverflowPolicy says what a full [Mailbox] does with a new message.
type OverflowPolicy int

const (
	// RejectNewest refuses the new message with [ErrMailboxFull].
	RejectNewest OverflowPolicy = iota
	// DropOldest discards the oldest queued message to make room; the
	// write succeeds and the drop is counted.
	DropOldest
)

// MailboxOptions configures [NewMailbox].
type MailboxOptions struct {
	// Capacity is the number of queued messages, at least 1.
	Capacity int
	// Policy is applied when the queue is full.
	Policy OverflowPolicy
	// OnError, if set, is called on the mailbox's goroutine with each
	// error or recovered panic from the wrapped handle.
	OnError func(error)
}

// MailboxStats counts what a [Mailbox] did with the messages written to
// it.
type MailboxStats struct {
	Delivered uint64 // written to the handle without error
	Failed    uint64 // written to the handle, which failed or panicked
	Dropped   uint64 // discarded by DropOldest, or still queued at Close
	Rejected  uint64 // refused with ErrMailboxFull
}

// Mailbox is a bounded asynchronous [Handle]: Write queues the message
// and returns at once, and one goroutine per mailbox writes the queue to
// the wrapped handle in order. Registering a Mailbox instead of a slow
// peer's handle keeps routing and broadcasts from waiting on that peer.
//
// Write never blocks. Close stops the goroutine and waits for it; it
// never closes the queue channel, so a Write racing Close cannot panic.
type Mailbox[M any] struct {
	h      Handle[M]
	origin OriginWriter[M]
	policy OverflowPolicy
	onErr  func(error)

	// q carries letters from Write to the drain goroutine; it is never
	// closed. done is closed by Close to stop the goroutine, which closes
	// exited as it returns.
	q      chan letter[M]
	done   chan struct{}
	exited chan struct{}
	ctx    context.Context // passed to the handle; cancelled by Close
	cancel context.CancelFunc
	once   sync.Once

	// Counters, each written with Add by Write or the goroutine and read
	// with Load by Stats.
	delivered, failed, dropped, rejected atomic.Uint64
}

type letter[M any] struct {
	from string
	msg  M
}

// NewMailbox wraps h and starts its goroutine; Close stops it. It fails
// with [ErrNilHandle] (also for a nil pointer, map, chan or func inside
// the interface) or an [*OptionError] for a capacity outside
// [1, MaxMailboxCapacity].
func NewMailbox[M any](h Handle[M], opts MailboxOptions) (*Mailbox[M], error) {
	if isNil(h) {
		return nil, ErrNilHandle
	}
	if opts.Capacity < 1 || opts.Capacity > MaxMailboxCapacity {
		return nil, &OptionError{"mailbox capacity", opts.Capacity, "must be in [1, MaxMailboxCapacity]"}
	}
	if opts.Policy != RejectNewest && opts.Policy != DropOldest {
		return nil, &OptionError{"mailbox policy", opts.Policy, "unknown"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mailbox[M]{
		h:      h,
		origin: asOrigin(h),
		policy: opts.Policy,
		onErr:  opts.OnError,
		q:      make(chan letter[M], opts.Capacity),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		ctx:    ctx,
		cancel: cancel,
	}
	go m.drain()
	return m, nil
}

// Write queues msg. It never blocks; it fails with [ErrClosed] after
// Close and, under [RejectNewest], with [ErrMailboxFull].
func (m *Mailbox[M]) Write(_ context.Context, msg M) error {
	return m.post(letter[M]{msg: msg})
}

// WriteFrom queues msg with its sender's ID, which reaches the wrapped
// handle if it is an [OriginWriter].
func (m *Mailbox[M]) WriteFrom(_ context.Context, from string, msg M) error {
	return m.post(letter[M]{from: from, msg: msg})
}

func (m *Mailbox[M]) post(l letter[M]) error {
	select {
	case <-m.done:
		return ErrClosed
	default:
	}
	select {
	case m.q <- l:
		return m.queued()
	default:
	}
	if m.policy == RejectNewest {
		m.rejected.Add(1)
		return ErrMailboxFull
	}

	// DropOldest: make room and retry. Other writers may take the room
	// first; after a few tries the new letter is the one dropped.
	for range 8 {
		select {
		case <-m.q:
			m.dropped.Add(1)
		default:
		}
		select {
		case m.q <- l:
			return m.queued()
		default:
		}
	}
	m.dropped.Add(1)
	return nil
}

func (m *Mailbox[M]) drain() {
	defer close(m.exited)
	for {
		select {
		case <-m.done:
			return
		case l := <-m.q:
			// select picks at random when both are ready, so a
			// letter taken after Close is dropped here, not sent
			// to the handle with a cancelled context.
			select {
			case <-m.done:
				m.dropped.Add(1)
				return
			default:
			}
			if err := m.send(l); err != nil {
				m.failed.Add(1)
				if m.onErr != nil {
					m.onErr(err)
				}
			} else {
				m.delivered.Add(1)
			}
		}
	}
}

func (m *Mailbox[M]) send(l letter[M]) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p}
		}
	}()
	if m.origin != nil {
		return m.origin.WriteFrom(m.ctx, l.from, l.msg)
	}
	return m.h.Write(m.ctx, l.msg)
}

// Close stops the goroutine, cancelling the context of a Write in
// progress, waits for it to exit, and counts the letters still queued as
// dropped. It is idempotent and safe to call from any goroutine except
// the handle's own Write.
func (m *Mailbox[M]) Close() error {
	m.once.Do(func() {
		close(m.done)
		m.cancel()
		<-m.exited
		m.dropQueued()
	})
	return nil
}

// dropQueued empties the queue, counting each letter as dropped.
func (m *Mailbox[M]) dropQueued() {
	for {
		select {
		case <-m.q:
			m.dropped.Add(1)
		default:
			return
		}
	}
}

// queued runs after a letter is queued. A Write racing Close can queue
// its letter after Close has emptied the queue for the last time; with
// nothing left to take it, the letter would stay queued for ever and be
// counted nowhere. So once closed, the writer empties the queue itself:
// its letter is dropped, like any letter still queued at Close. Close
// closes done before it empties the queue, so if this check misses done,
// Close's own emptying takes the letter. TestRaceMailboxWriteVersusClose
// covers this.
func (m *Mailbox[M]) queued() error {
	select {
	case <-m.done:
		m.dropQueued()
	default:
	}
	return nil
}

// Stats returns the mailbox's counters.
func (m *Mailbox[M]) Stats() MailboxStats {
	return MailboxStats{
		Delivered: m.delivered.Load(),
		Failed:    m.failed.Load(),
		Dropped:   m.dropped.Load(),
		Rejected:  m.rejected.Load(),
	}
}

// Len returns the number of queued letters.
func (m *Mailbox[M]) Len() int { return len(m.q) }

func asOrigin[M any](h Handle[M]) OriginWriter[M] {
	o, _ := h.(OriginWriter[M])
	return o
}
