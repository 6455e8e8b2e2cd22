package cli

import (
	"errors"
	"fmt"
)

// Exit codes of every epic command (interfaces.md §1).
const (
	ExitOK         = 0
	ExitValidation = 2 // the archive has ERROR findings
	ExitJob        = 3 // with --wait: the job ended in any status but COMPLETED
	// ExitUnhealthy (export, sync): the source was read whole but the
	// source-health floor ([health] in epic.toml) refused it; no archive
	// was written, nothing was uploaded.
	ExitUnhealthy = 4
	ExitFailure   = 255 // anything else that stopped the run
)

const exitCodesHelp = `Exit codes:
  0    success
  2    validation errors (also when --force uploaded anyway)
  3    the job ended in any status but COMPLETED (with --wait)
  255  anything else that stopped the run (bad arguments, no connection,
       authentication refused, server error)`

// exitError carries an exit code out of a command. Its message, if any, is
// meant for a person and printed as is.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitWith returns an error that makes the command exit with code,
// printing msg unless it is empty.
func exitWith(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailure
}
