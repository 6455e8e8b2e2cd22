package mapping

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/epicsync/epic/internal/archive"
)

// Group is an on-call group with one shift whose members are people or
// other groups of the same export.
type Group struct {
	Key, Name, Description string
	TimeZone, Site         string
	Shift                  string // the shift's name, e.g. "Default Shift"
	Members                []Member
}

// Member is a member of a group's shift.
type Member struct {
	Type string // "PERSON" or "GROUP"
	Key  string // the EXTERNAL_KEY of the person or group
}

// Builder collects the people and groups of one export and writes them as
// an archive folder.
type Builder struct {
	m         *Mapper
	people    []Person
	byKey     map[string]int
	byUserID  map[string]int
	groups    []Group
	groupKeys map[string]bool
}

// NewBuilder starts an empty export mapped by m.
func NewBuilder(m *Mapper) *Builder {
	return &Builder{m: m, byKey: map[string]int{}, byUserID: map[string]int{}, groupKeys: map[string]bool{}}
}

// ErrDuplicate is wrapped by Add's error for a person whose key or
// USER_ID another person of the export already has.
var ErrDuplicate = errors.New("duplicate")

// Add adds a person. Two people with one EXTERNAL_KEY, or one USER_ID
// (compared without regard to case), are an error naming both: the
// mapping picks a value that is not unique in the source.
func (b *Builder) Add(p Person, where string) error {
	if i, ok := b.byKey[p.Key]; ok {
		return fmt.Errorf("%w: %s has EXTERNAL_KEY %q, as has person %s (USER_ID %q): the key template must give a value unique to each person",
			ErrDuplicate, where, p.Key, b.people[i].Key, b.people[i].UserID)
	}
	uid := strings.ToLower(p.UserID)
	if i, ok := b.byUserID[uid]; ok {
		return fmt.Errorf("%w: %s has USER_ID %q, as has the person with EXTERNAL_KEY %q: the USER_ID template must give a value unique to each person",
			ErrDuplicate, where, p.UserID, b.people[i].Key)
	}
	b.byKey[p.Key] = len(b.people)
	b.byUserID[uid] = len(b.people)
	b.people = append(b.people, p)
	return nil
}

// AddGroup adds a group; a second group with the same key is an error.
func (b *Builder) AddGroup(g Group) error {
	if b.groupKeys[g.Key] {
		return fmt.Errorf("%w: two groups have EXTERNAL_KEY %q: the group key template must give a value unique to each group", ErrDuplicate, g.Key)
	}
	b.groupKeys[g.Key] = true
	b.groups = append(b.groups, g)
	return nil
}

// People is the number of people added.
func (b *Builder) People() int { return len(b.people) }

// Groups is the number of groups added.
func (b *Builder) Groups() int { return len(b.groups) }

// HasPerson reports whether a person with that EXTERNAL_KEY was added.
func (b *Builder) HasPerson(key string) bool { _, ok := b.byKey[key]; return ok }

// Write writes the manifest and every file of the latest version to w;
// files without rows are blank (header only).
func (b *Builder) Write(w *archive.Writer) error {
	if err := w.WriteManifest(b.m.Manifest()); err != nil {
		return err
	}
	owned := b.m.owned()
	for _, l := range archive.Layouts(w.Version()) {
		fw, err := w.Create(l)
		if err != nil {
			return err
		}
		err = b.fill(fw, l, owned)
		if cerr := fw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", l.Name, err)
		}
	}
	return nil
}

func (b *Builder) fill(fw *archive.FileWriter, l *archive.Layout, owned string) error {
	row := fw.Row()
	put := func(vals map[string]string) error {
		clear(row)
		for k, v := range vals {
			i := fw.Index(k)
			if i < 0 {
				return fmt.Errorf("no column %s", k)
			}
			row[i] = v
		}
		return fw.Write(row)
	}
	switch {
	case l.Name == archive.FileSites:
		for _, s := range b.m.cfg.Sites {
			key := s.Key
			if key == "" {
				key = "site:" + s.Name
			}
			if err := put(map[string]string{"EXTERNAL_KEY": key, "SITENAME": s.Name, "STATUS": "ACTIVE",
				"SITE_TIMEZONE": s.TimeZone, "SITE_LANGUAGE": s.Language, "COUNTRY": s.Country, "CITY": s.City,
				"IS_EXTERNALLY_OWNED": owned, "ACTION": "Y"}); err != nil {
				return err
			}
		}
	case l.Name == archive.FileUsers:
		for _, p := range b.people {
			if err := fw.Write(p.Row); err != nil {
				return err
			}
		}
	case l.DeviceType != "":
		for _, p := range b.people {
			for _, d := range p.Devices {
				if d.Layout.Name == l.Name {
					if err := fw.Write(d.Row); err != nil {
						return err
					}
				}
			}
		}
	case l.Name == archive.FileCustomValues:
		for _, p := range b.people {
			for _, c := range p.Custom {
				if err := put(map[string]string{"EXTERNAL_KEY": p.Key + "|" + c[0], "CUSTOM_USER_KEY": p.Key,
					"FIELD_KEY": c[0], "CUSTOM_VALUE": c[1], "IS_EXTERNALLY_OWNED": owned, "ACTION": "Y"}); err != nil {
					return err
				}
			}
		}
	case l.Name == archive.FileGroups:
		for _, g := range b.groups {
			if err := put(map[string]string{"EXTERNAL_KEY": g.Key, "GROUP_NAME": g.Name, "DESCRIPTION": g.Description,
				"STATUS": "ACTIVE", "USE_DEFAULT_DEVICES": "Y", "TIMEZONE": g.TimeZone, "GROUP_SITE_NAME": g.Site,
				"IS_EXTERNALLY_OWNED": owned, "ACTION": "Y"}); err != nil {
				return err
			}
		}
	case l.Name == archive.FileTeams:
		for _, g := range b.groups {
			if err := put(map[string]string{"EXTERNAL_KEY": ShiftKey(g), "GROUP_KEY": g.Key, "SUB_TARGET_NAME": g.Shift,
				"USE_DEFAULT_DEVICES": "Y", "ESCALATION_SCHEDULE": "0", "IS_ROUND_ROBIN": "N",
				"IS_EXTERNALLY_OWNED": owned, "ACTION": "Y"}); err != nil {
				return err
			}
		}
	case l.Name == archive.FileMemberships:
		for _, g := range b.groups {
			for i, m := range g.Members {
				if err := put(map[string]string{"TEAM_KEY": ShiftKey(g), "MEMBER_KEY": m.Key, "MEMBER_TYPE": m.Type,
					"MEMBER_SEQUENCE_NUMBER": strconv.Itoa(i + 1), "IS_EXTERNALLY_OWNED": owned, "ACTION": "Y"}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ShiftKey is the EXTERNAL_KEY of a group's shift: GROUPKEY_shiftname,
// as the format advises.
func ShiftKey(g Group) string { return g.Key + "_" + g.Shift }

// ErrInvalid is wrapped by WriteDir's error when the archive it wrote
// does not validate.
var ErrInvalid = errors.New("the exported archive does not validate")

// WriteDir writes the archive to a new folder beside dir, validates it,
// and only when it has no error replaces dir with it. dir may be missing,
// empty, or an archive folder from an earlier export (manifest.xml and
// DS_*.csv files only); anything else there is an error and is left alone.
// On any error dir is as it was and nothing else is left behind.
func (b *Builder) WriteDir(dir string) (*archive.Result, error) {
	dir = filepath.Clean(dir)
	if err := checkTarget(dir); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	w, err := archive.NewDirWriter(tmp, archive.Latest)
	if err != nil {
		return nil, err
	}
	if err := b.Write(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	sum := archive.Summary{Keep: 10}
	res, err := archive.ValidateDir(tmp, archive.Options{Limits: archive.DefaultLimits(), Sink: sum.Add})
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 {
		var lines []string
		for _, f := range sum.First {
			if f.Severity == archive.Error {
				lines = append(lines, "  "+f.String())
			}
		}
		return res, fmt.Errorf("%w: %d errors, the first:\n%s", ErrInvalid, res.Errors, strings.Join(lines, "\n"))
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return nil, err
	}
	ok = true
	if old != "" {
		os.RemoveAll(old)
	}
	return res, nil
}

// checkTarget refuses a dir that holds anything but an archive.
func checkTarget(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	for _, e := range ents {
		n := strings.ToUpper(e.Name())
		if e.IsDir() || !(n == "MANIFEST.XML" || strings.HasPrefix(n, "DS_") && strings.HasSuffix(n, ".CSV")) {
			return fmt.Errorf("output folder %s holds %s, which is not part of an archive: name a new or empty folder, or the folder of an earlier export", dir, e.Name())
		}
	}
	return nil
}
