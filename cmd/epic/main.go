// Command epic is the EPIC client: it validates, packs, generates and
// uploads ZipSync archives. See `epic --help`.
package main

import (
	"os"

	"github.com/epicsync/epic/internal/cli"
)

func main() {
	os.Exit(cli.Epic(os.Args[1:], os.Stdout, os.Stderr))
}
