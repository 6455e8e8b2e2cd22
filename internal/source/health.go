package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Health is the floor an export must reach before it may become an
// archive ([health] in epic.toml). An export that comes back empty or cut
// short (a paging limit, a failed bind, a filter typo) and then goes out
// under mirror=Y would remove everyone; Check stops it first.
type Health struct {
	// MinPeople is the fewest people an export may have (min_people);
	// 0: no fixed floor.
	MinPeople int `toml:"min_people"`
	// MinPreviousPercent refuses an export with fewer people than this
	// percentage of the previous successful export of the same source
	// (min_previous_percent, default 50); a negative value switches the
	// check off.
	MinPreviousPercent int `toml:"min_previous_percent"`
	// StateFile keeps the people count of each source's last successful
	// export (state_file; default: epic-state.json in the user's config
	// folder, or beside the config file).
	StateFile string `toml:"state_file"`
}

// DefaultHealth is the floor when epic.toml says nothing.
func DefaultHealth() Health { return Health{MinPreviousPercent: 50} }

// ErrUnhealthy is wrapped by Check's error.
var ErrUnhealthy = errors.New("export refused by the source-health check")

// state is the state file: per source, its last successful export.
type state map[string]struct {
	People int       `json:"people"`
	At     time.Time `json:"at"`
}

func (h Health) load() (state, error) {
	st := state{}
	if h.StateFile == "" {
		return st, nil
	}
	b, err := os.ReadFile(h.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the export state %s: %w", h.StateFile, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("read the export state %s: %w (delete the file to start afresh; the previous-export floor then does not apply once)", h.StateFile, err)
	}
	return st, nil
}

// Check returns an error wrapping ErrUnhealthy when an export of source
// (a stable name, e.g. "ldap ldaps://dc1.example.com/ou=People,dc=example,dc=com")
// with that many people must not become an archive.
func (h Health) Check(source string, people int) error {
	if people == 0 {
		return fmt.Errorf("%w: the export of %s has no people; an empty export is never uploaded (check the filter, the bind and the base)", ErrUnhealthy, source)
	}
	if people < h.MinPeople {
		return fmt.Errorf("%w: the export of %s has %d people, fewer than min_people = %d", ErrUnhealthy, source, people, h.MinPeople)
	}
	if h.MinPreviousPercent < 0 {
		return nil
	}
	st, err := h.load()
	if err != nil {
		return err
	}
	prev, ok := st[source]
	if !ok || prev.People == 0 {
		return nil
	}
	if people*100 < prev.People*h.MinPreviousPercent {
		return fmt.Errorf("%w: the export of %s has %d people, fewer than %d %% of the %d of the last successful export (%s); if the source really shrank, run once with min_previous_percent = -1 in [health]",
			ErrUnhealthy, source, people, h.MinPreviousPercent, prev.People, prev.At.Format(time.RFC3339))
	}
	return nil
}

// Record remembers a successful export of source, for the next Check.
// Without a StateFile it does nothing.
func (h Health) Record(source string, people int, now time.Time) error {
	if h.StateFile == "" {
		return nil
	}
	st, err := h.load()
	if err != nil {
		return err
	}
	st[source] = struct {
		People int       `json:"people"`
		At     time.Time `json:"at"`
	}{people, now.UTC()}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(h.StateFile), 0o700); err != nil {
		return fmt.Errorf("write the export state: %w", err)
	}
	tmp := h.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write the export state: %w", err)
	}
	if err := os.Rename(tmp, h.StateFile); err != nil {
		return fmt.Errorf("write the export state: %w", err)
	}
	return nil
}
