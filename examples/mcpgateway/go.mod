module github.com/mcpshard/registry/examples/mcpgateway

go 1.26

replace github.com/mcpshard/registry => ../..

require (
	github.com/klauspost/cpuid/v2 v2.2.10 // indirect
	github.com/mark3labs/mcp-go v1.2.1 // indirect
	github.com/mcpshard/registry v0.0.0 // indirect
	github.com/modelcontextprotocol/go-sdk v1.8.0 // indirect
	github.com/puzpuzpuz/xsync/v3 v3.5.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/zeebo/xxh3 v1.1.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)
