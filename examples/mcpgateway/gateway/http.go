package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/mcpshard/registry"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

const sessionHeader = "Mcp-Session-Id"

// Handler serves the streamable HTTP transport at /mcp/{server}: POST
// carries client messages (initialize, without a session ID, opens a
// session), GET opens a session's stream of server notifications and
// DELETE ends a session.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mcp/{server}", g.post)
	mux.HandleFunc("GET /mcp/{server}", g.get)
	mux.HandleFunc("DELETE /mcp/{server}", g.delete)
	return mux
}

func (g *Gateway) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		http.Error(w, "gateway: reading body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	msg, _ := jsonrpc.DecodeMessage(body) // a batch or bad JSON is the SDK's to refuse
	req, _ := msg.(*jsonrpc.Request)

	// server/discover never reaches a session: answering it here lets a
	// client fall back to initialize before it has one.
	if req != nil && req.IsCall() && req.Method == methodDiscover {
		writeJSON(w, discoverNotFound(req.ID))
		return
	}

	server := r.PathValue("server")
	s, status := g.postSession(r.Header.Get(sessionHeader), server, req)
	if s == nil {
		http.Error(w, "gateway: "+http.StatusText(status), status)
		return
	}
	s.begin()
	defer s.end()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.http.ServeHTTP(w, r)
}

// postSession finds the session a POST names or, for an initialize
// without a session ID, opens one. On failure it returns an HTTP status.
func (g *Gateway) postSession(id, server string, req *jsonrpc.Request) (*session, int) {
	if id != "" {
		if s, ok := g.findSession(id, server); ok {
			return s, 0
		}
		return nil, http.StatusNotFound
	}
	if req == nil || !req.IsCall() || req.Method != methodInitialize {
		return nil, http.StatusBadRequest // sessions start with initialize
	}
	s, err := g.openSession(server)
	switch {
	case errors.Is(err, errUnknownServer):
		return nil, http.StatusNotFound
	case errors.Is(err, registry.ErrNotFound):
		return nil, http.StatusServiceUnavailable // upstream restarting
	case err != nil:
		return nil, http.StatusServiceUnavailable
	}
	return s, 0
}

func (g *Gateway) get(w http.ResponseWriter, r *http.Request) {
	s, ok := g.findSession(r.Header.Get(sessionHeader), r.PathValue("server"))
	if !ok {
		http.Error(w, "gateway: session not found", http.StatusNotFound)
		return
	}
	s.begin()
	defer s.end()
	s.http.ServeHTTP(w, r)
}

func (g *Gateway) delete(w http.ResponseWriter, r *http.Request) {
	s, ok := g.findSession(r.Header.Get(sessionHeader), r.PathValue("server"))
	if !ok {
		http.Error(w, "gateway: session not found", http.StatusNotFound)
		return
	}
	s.close()
	w.WriteHeader(http.StatusNoContent)
}

// writeJSON writes one JSON-RPC message as an application/json reply.
func writeJSON(w http.ResponseWriter, msg jsonrpc.Message) {
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}
