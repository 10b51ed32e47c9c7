// Command pingora is the pingora binary with OpenTelemetry span export:
// services with tracing.otlp_endpoint send a span per request to an
// OTLP/HTTP collector. See packages umbrella and umbrella/otel.
package main

import (
	"os"

	"github.com/pingora-go/pingora/umbrella"
	"github.com/pingora-go/pingora/umbrella/otel"
)

func main() { os.Exit(umbrella.MainWith(os.Args, otel.Extensions())) }
