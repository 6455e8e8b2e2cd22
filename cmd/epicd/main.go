// Command epicd is the EPIC service: it keeps companies' directories and
// applies archives to them. See `epicd --help`.
package main

import (
	"os"

	"github.com/epicsync/epic/internal/cli"
)

func main() {
	os.Exit(cli.Epicd(os.Args[1:], os.Stdout, os.Stderr))
}
