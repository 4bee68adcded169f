package baseline

import (
	"context"
	"sync"

	"github.com/mcpshard/registry"
)

// Chan is the channel-serialised registry: one goroutine owns the maps
// and answers every call, lookups included, over a channel, as the
// Erlang gen_server of the published design's "original registry" did.
// The goroutine only looks entries up and changes them; handles run on
// the caller's goroutine after the answer, so a slow handle does not stall
// the registry (more than the original design allowed).
//
// Each call sends a request by value and waits on a reply channel taken
// from a pool, so a call allocates nothing of its own.
type Chan struct {
	reqs   chan request
	done   chan struct{} // closed by Close to stop the goroutine
	exited chan struct{} // closed by the goroutine as it returns
	once   sync.Once
	p      plain // owned by the goroutine
}

type op uint8

const (
	opAddServer op = iota
	opAddTransport
	opRemoveServer
	opRemoveTransport
	opFindServer
	opFindTransport
	opBind
	opUnbind
	opServerOf
	opSnapshot
	opCounts
	opClose
)

type request struct {
	op     op
	id     string
	id2    string
	server *plServer    // opAddServer; opRemoveServer's wanted entry
	trans  *plTransport // opAddTransport; opRemoveTransport's
	buf    *[]target    // opSnapshot
	reply  chan reply
}

type reply struct {
	h      Handle
	origin OriginWriter
	id     string
	ok     bool
	n, m   int
	err    error
}

var replyPool = sync.Pool{New: func() any { return make(chan reply, 1) }}

// NewChan starts the registry's goroutine; Close stops it.
func NewChan(capacity int) *Chan {
	c := &Chan{
		reqs:   make(chan request, 1024),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		p:      newPlain(capacity),
	}
	go c.serve()
	return c
}

func (c *Chan) serve() {
	defer close(c.exited)
	for {
		select {
		case <-c.done:
			return
		case q := <-c.reqs:
			q.reply <- c.answer(q)
		}
	}
}

// answer runs one request on the goroutine's maps.
func (c *Chan) answer(q request) reply {
	p := &c.p
	switch q.op {
	case opAddServer:
		return reply{err: p.addServer(q.server)}
	case opAddTransport:
		return reply{err: p.addTransport(q.trans)}
	case opRemoveServer:
		return reply{ok: p.removeServer(q.id, q.server)}
	case opRemoveTransport:
		return reply{ok: p.removeTransport(q.id, q.trans)}
	case opFindServer:
		if s, ok := p.servers[q.id]; ok {
			return reply{h: s.h, origin: s.origin, ok: true}
		}
	case opFindTransport:
		if t, ok := p.transports[q.id]; ok {
			return reply{h: t.h, origin: t.origin, ok: true}
		}
	case opBind:
		return reply{err: p.bind(q.id, q.id2)}
	case opUnbind:
		return reply{err: p.unbind(q.id)}
	case opServerOf:
		id, ok := p.serverOf(q.id)
		return reply{id: id, ok: ok}
	case opSnapshot:
		ts, err := p.snapshot(q.id, (*q.buf)[:0])
		*q.buf = ts
		return reply{err: err}
	case opCounts:
		return reply{n: len(p.servers), m: len(p.transports), ok: p.closed}
	case opClose:
		return reply{err: p.close()}
	}
	return reply{}
}

// call sends q and waits for its answer; after Close it reports false.
// A request the goroutine accepts is answered into a reply channel with
// room for the answer; one queued as the goroutine exits is not, and the
// caller learns it from exited.
func (c *Chan) call(q request) (reply, bool) {
	select {
	case <-c.done:
		return reply{}, false
	default:
	}
	ch := replyPool.Get().(chan reply)
	q.reply = ch
	select {
	case c.reqs <- q:
	case <-c.done:
		replyPool.Put(ch)
		return reply{}, false
	}
	select {
	case a := <-ch:
		replyPool.Put(ch)
		return a, true
	case <-c.exited:
	}
	select {
	case a := <-ch:
		replyPool.Put(ch)
		return a, true
	default:
		replyPool.Put(ch)
		return reply{}, false
	}
}

func (c *Chan) closedErr(op, kind, id string) error {
	return idErr(op, kind, id, registry.ErrClosed)
}

func (c *Chan) RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error {
	if err := checkRegister(ctx, kindServer, id, h); err != nil {
		return err
	}
	s := &plServer{id: id, h: h, origin: originOf(h), cfg: cfg}
	s.stop = afterFunc(ctx, func() {
		c.call(request{op: opRemoveServer, id: id, server: s})
	})
	a, ok := c.call(request{op: opAddServer, server: s})
	if !ok {
		a.err = c.closedErr("register", kindServer, id)
	}
	if a.err == nil && ctx.Err() != nil {
		c.call(request{op: opRemoveServer, id: id, server: s})
		a.err = idErr("register", kindServer, id, ctx.Err())
	}
	if a.err != nil {
		stop(s.stop)
	}
	return a.err
}

func (c *Chan) RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error {
	if err := checkRegister(ctx, kindTransport, id, h); err != nil {
		return err
	}
	t := &plTransport{id: id, h: h, origin: originOf(h), cfg: cfg}
	t.stop = afterFunc(ctx, func() {
		c.call(request{op: opRemoveTransport, id: id, trans: t})
	})
	a, ok := c.call(request{op: opAddTransport, trans: t})
	if !ok {
		a.err = c.closedErr("register", kindTransport, id)
	}
	if a.err == nil && ctx.Err() != nil {
		c.call(request{op: opRemoveTransport, id: id, trans: t})
		a.err = idErr("register", kindTransport, id, ctx.Err())
	}
	if a.err != nil {
		stop(t.stop)
	}
	return a.err
}

func (c *Chan) UnregisterServer(id string) error {
	a, ok := c.call(request{op: opRemoveServer, id: id})
	switch {
	case !ok:
		return c.closedErr("unregister", kindServer, id)
	case !a.ok:
		return idErr("unregister", kindServer, id, registry.ErrServerNotFound)
	}
	return nil
}

func (c *Chan) UnregisterTransport(id string) error {
	a, ok := c.call(request{op: opRemoveTransport, id: id})
	switch {
	case !ok:
		return c.closedErr("unregister", kindTransport, id)
	case !a.ok:
		return idErr("unregister", kindTransport, id, registry.ErrTransportNotFound)
	}
	return nil
}

func (c *Chan) FindServer(id string) (Handle, bool) {
	a, _ := c.call(request{op: opFindServer, id: id})
	return a.h, a.ok
}

func (c *Chan) FindTransport(id string) (Handle, bool) {
	a, _ := c.call(request{op: opFindTransport, id: id})
	return a.h, a.ok
}

func (c *Chan) Bind(tid, sid string) error {
	a, ok := c.call(request{op: opBind, id: tid, id2: sid})
	if !ok {
		return c.closedErr("bind", kindTransport, tid)
	}
	return a.err
}

func (c *Chan) Unbind(tid string) error {
	a, ok := c.call(request{op: opUnbind, id: tid})
	if !ok {
		return c.closedErr("unbind", kindTransport, tid)
	}
	return a.err
}

func (c *Chan) ServerOf(tid string) (string, bool) {
	a, _ := c.call(request{op: opServerOf, id: tid})
	return a.id, a.ok
}

func (c *Chan) RouteToServer(ctx context.Context, sid, tid string, msg Msg) error {
	a, ok := c.call(request{op: opFindServer, id: sid})
	switch {
	case !ok:
		return c.closedErr("route", kindServer, sid)
	case !a.ok:
		return idErr("route", kindServer, sid, registry.ErrServerNotFound)
	}
	if err := deliver(ctx, a.h, a.origin, tid, msg); err != nil {
		return idErr("route", kindServer, sid, err)
	}
	return nil
}

func (c *Chan) RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error {
	a, ok := c.call(request{op: opFindTransport, id: tid})
	switch {
	case !ok:
		return c.closedErr("route", kindTransport, tid)
	case !a.ok:
		return idErr("route", kindTransport, tid, registry.ErrTransportNotFound)
	}
	if err := deliver(ctx, a.h, a.origin, sid, msg); err != nil {
		return idErr("route", kindTransport, tid, err)
	}
	return nil
}

func (c *Chan) Broadcast(ctx context.Context, sid string, msg Msg) (int, int, error) {
	buf := targetPool.Get().(*[]target)
	defer func() {
		clear(*buf)
		*buf = (*buf)[:0]
		targetPool.Put(buf)
	}()
	a, ok := c.call(request{op: opSnapshot, id: sid, buf: buf})
	switch {
	case !ok:
		return 0, 0, c.closedErr("broadcast", kindServer, sid)
	case a.err != nil:
		return 0, 0, a.err
	}
	d, f := writeAll(ctx, *buf, sid, msg)
	return d, f, nil
}

func (c *Chan) Counts() (int, int) {
	a, _ := c.call(request{op: opCounts})
	return a.n, a.m
}

// Close removes every entry, then stops the goroutine and waits for it.
func (c *Chan) Close() error {
	err := registry.ErrClosed
	c.once.Do(func() {
		a, _ := c.call(request{op: opClose})
		err = a.err
		close(c.done)
		<-c.exited
	})
	return err
}
