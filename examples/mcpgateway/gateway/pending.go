package gateway

import (
	"encoding/json"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// call is one request forwarded upstream and not yet answered: who asked
// and what they called it. Immutable once stored.
type call struct {
	session string          // the asking session's ID
	id      jsonrpc.ID      // the client's own request ID
	token   json.RawMessage // the client's progress token, or nil
}

// pending maps the gateway IDs of one upstream's unanswered calls to
// their callers. Whoever takes a call answers it: the response, the
// upstream's exit, a cancellation or the session's end, exactly once.
type pending struct {
	mu    sync.Mutex
	calls map[int64]*call // guarded by mu
}

func (p *pending) add(n int64, c *call) {
	p.mu.Lock()
	if p.calls == nil {
		p.calls = make(map[int64]*call)
	}
	p.calls[n] = c
	p.mu.Unlock()
}

// take removes and returns call n, or nil if another path took it.
func (p *pending) take(n int64) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls[n]
	delete(p.calls, n)
	return c
}

// peek returns call n without removing it (for progress).
func (p *pending) peek(n int64) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[n]
}

// drain removes and returns every call.
func (p *pending) drain() map[int64]*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := p.calls
	p.calls = nil
	return all
}

// len returns the number of unanswered calls.
func (p *pending) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}
