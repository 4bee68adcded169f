package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// fileConfig is the JSON config file:
//
//	{"listen": "127.0.0.1:8080", "idleTimeout": "5m",
//	 "servers": [{"name": "everything", "command": ["node", "index.js", "stdio"]}]}
type fileConfig struct {
	Listen      string         `json:"listen"`
	IdleTimeout duration       `json:"idleTimeout"`
	Servers     []serverConfig `json:"servers"`
}

// serverConfig is one stdio server: its name in /mcp/{name} and the
// command that starts it.
type serverConfig struct {
	Name    string   `json:"name"`
	Command []string `json:"command"`
}

func loadConfig(path string) (fileConfig, error) {
	cfg := fileConfig{Listen: "127.0.0.1:8080"}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range cfg.Servers {
		if s.Name == "" || len(s.Command) == 0 {
			return cfg, fmt.Errorf("%s: every server needs a name and a command", path)
		}
	}
	return cfg, nil
}

// duration is a time.Duration written as "5m" in JSON.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

// serverFlags collects -server NAME=COMMAND [ARGS...] flags; the command
// is split on spaces.
type serverFlags []serverConfig

func (f *serverFlags) String() string { return fmt.Sprint(*f) }

func (f *serverFlags) Set(v string) error {
	name, cmd, ok := strings.Cut(v, "=")
	args := strings.Fields(cmd)
	if !ok || name == "" || len(args) == 0 {
		return fmt.Errorf("want NAME=COMMAND [ARGS...], got %q", v)
	}
	*f = append(*f, serverConfig{Name: name, Command: args})
	return nil
}
