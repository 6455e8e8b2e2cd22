// Package version holds the version of the epic and epicd binaries. It
// imports nothing.
package version

// Version is set at build time with
// -ldflags "-X github.com/epicsync/epic/internal/version.Version=1.2.3";
// a development build says "dev".
var Version = "0.1.0-dev"
