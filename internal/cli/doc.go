// Package cli holds the command lines of epic (the client) and, later,
// epicd (the service): flag parsing, exit codes and what a person sees on
// the terminal. It turns results of the other packages into messages and
// never holds logic of its own that a library caller would need.
package cli
