// Package tracing proves that the SDK's requests trace with OpenTelemetry
// through the standard library alone: a user who gives the client an
// otelhttp transport gets a client span for every attempt. It is a module
// of its own so that the SDK's module does not depend on OpenTelemetry, nor
// require the Go release that OpenTelemetry requires.
package tracing
