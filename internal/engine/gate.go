package engine

import (
	"errors"
	"fmt"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// The object types the safety gate counts (processing.md §6), in the
// order of its messages.
const (
	gateSites = iota
	gatePeople
	gateDevices
	gateCustoms
	gateGroups
	gateShifts
	gateTypes
)

var gateNames = [gateTypes]string{"sites", "people", "devices", "custom values", "groups", "teams"}

// noGate is the gate type of files the gate does not count.
const noGate = -1

// gateType is the object type a file's rows remove (noGate for
// memberships, which the gate does not count).
func gateType(l *archive.Layout) int {
	switch {
	case l.DeviceType != "":
		return gateDevices
	case l.Name == archive.FileSites:
		return gateSites
	case l.Name == archive.FileUsers:
		return gatePeople
	case l.Name == archive.FileCustomValues:
		return gateCustoms
	case l.Name == archive.FileGroups:
		return gateGroups
	case l.Name == archive.FileTeams:
		return gateShifts
	}
	return noGate
}

// errHeld rolls back the transaction of a job the safety gate holds.
var errHeld = errors.New("held by the safety gate")

// gate checks the company's safety limits once the job is applied (in its
// transaction, not yet committed). It returns the details that explain
// why the job is held, or nil when it may be committed. had are the
// objects the company had before the job; people the archive's DS_USERS
// rows that upsert (ACTION=Y).
//
// The people rule asks only mirror archives, which list the whole
// directory: another archive changes only what it names.
func gate(lim directory.SafetyLimits, v archive.Version, mirror bool, had [gateTypes]int, summary map[string]*directory.SummaryLine, people int) []string {
	if !lim.Enabled {
		return nil
	}
	var removed [gateTypes]int
	for _, l := range archive.Layouts(v) {
		if t := gateType(l); t != noGate {
			if s := summary[synchronizer(l)]; s != nil {
				removed[t] += s.Removed + s.RemovedByMirror
			}
		}
	}
	var why []string
	for t := range gateTypes {
		n, of := removed[t], had[t]
		if n == 0 || of == 0 {
			continue
		}
		if n > lim.RemoveMin && n*100 > lim.RemovePercent*of {
			why = append(why, fmt.Sprintf("would remove %d of %d %s (%d %%): more than %d %% and more than %d",
				n, of, gateNames[t], n*100/of, lim.RemovePercent, lim.RemoveMin))
		}
	}
	if of := had[gatePeople]; mirror && of > 0 && people*100 < lim.MinPeoplePercent*of {
		why = append(why, fmt.Sprintf("the archive has %d people to keep (ACTION=Y), fewer than %d %% of the company's %d people",
			people, lim.MinPeoplePercent, of))
	}
	return why
}
