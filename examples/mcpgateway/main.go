// Command mcpgateway serves several MCP servers to many clients over
// streamable HTTP, routing every message through package registry.
//
//	go run . -listen 127.0.0.1:8080 -server 'everything=node testdata/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio'
//	go run . -config gateway.json
//
// Each server is reached at http://LISTEN/mcp/NAME. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcpshard/registry/examples/mcpgateway/gateway"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mcpgateway:", err)
		os.Exit(1)
	}
}

func run() error {
	var servers serverFlags
	configPath := flag.String("config", "", "JSON config file (see README.md)")
	listen := flag.String("listen", "", "address to serve on (default 127.0.0.1:8080)")
	idle := flag.Duration("idle", 0, "end sessions idle this long (default 5m)")
	verbose := flag.Bool("v", false, "log debug events")
	flag.Var(&servers, "server", "NAME=COMMAND [ARGS...] of a stdio MCP server (repeatable)")
	flag.Parse()

	cfg := fileConfig{Listen: "127.0.0.1:8080"}
	if *configPath != "" {
		var err error
		if cfg, err = loadConfig(*configPath); err != nil {
			return err
		}
	}
	cfg.Servers = append(cfg.Servers, servers...)
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *idle != 0 {
		cfg.IdleTimeout = duration(*idle)
	}
	if len(cfg.Servers) == 0 {
		return errors.New("no servers: pass -server NAME=COMMAND or -config FILE")
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	gcfg := gateway.Config{IdleTimeout: time.Duration(cfg.IdleTimeout), Logger: log}
	for _, s := range cfg.Servers {
		gcfg.Upstreams = append(gcfg.Upstreams, gateway.Upstream{
			ID:   s.Name,
			Dial: gateway.Command(os.Stderr, s.Command[0], s.Command[1:]...),
		})
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(ctx, gcfg)
	if err != nil {
		return err
	}
	defer g.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = g.Close() // ends the hanging streams, so Shutdown can finish
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	for _, s := range cfg.Servers {
		log.Info("serving", slog.String("url", "http://"+ln.Addr().String()+"/mcp/"+s.Name))
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
