package engine

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

func (r *run) shifts() error {
	l := layout(archive.FileTeams)
	r.replaced = map[uuid.UUID]bool{}
	var ins, upd []*directory.Shift
	err := r.each(l, externalKey, func(row *archive.Row, key string) error {
		s := &directory.Shift{Name: row.Value("SUB_TARGET_NAME"), Description: row.Value("DESCRIPTION"),
			UseDefaultDevices: yes(row.Value("USE_DEFAULT_DEVICES")), RoundRobin: yes(row.Value("IS_ROUND_ROBIN"))}
		s.ExternalKey, s.Owned = key, yes(row.Value("IS_EXTERNALLY_OWNED"))
		items, _ := list(row.Value("ESCALATION_SCHEDULE"))
		for _, it := range items {
			s.Escalation = append(s.Escalation, atoi(it))
		}
		groupKey := row.Value("GROUP_KEY")
		g := r.x.groupByKey[groupKey]
		if g == nil || r.cascades(archive.FileGroups, groupKey) {
			event, msg := r.dependency(archive.FileGroups, groupKey, "GROUP_KEY")
			r.fail(l, row.Line, key, event, "GROUP_KEY", groupKey, msg)
			return nil
		}
		s.GroupID = g.ID
		cur := r.x.shiftByKey[key]
		if cur != nil && cur.GroupID != g.ID {
			r.fail(l, row.Line, key, "OWNER_CHANGED", "GROUP_KEY", groupKey, "this external key belongs to a shift of another group; shifts do not move between groups")
			return nil
		}
		if other := r.x.shiftByName[groupName{g.ID, fold(s.Name)}]; other != nil && other != cur {
			r.fail(l, row.Line, key, "NAME_COLLISION", "SUB_TARGET_NAME", s.Name, fmt.Sprintf("the group already has a shift of this name (external key %q)", other.ExternalKey))
			return nil
		}
		outcome := settle(cur, s, Updated, sameShift, &ins, &upd)
		r.x.putShift(s)
		r.replaced[s.ID] = true
		r.outcome(l, row.Line, key, outcome)
		return nil
	})
	if err != nil {
		return err
	}
	return flush(r.tx.PutShifts, ins, upd)
}

func sameShift(a, b *directory.Shift) bool {
	return a.Common == b.Common && a.GroupID == b.GroupID && a.Name == b.Name && a.Description == b.Description &&
		a.UseDefaultDevices == b.UseDefaultDevices && a.RoundRobin == b.RoundRobin && slices.Equal(a.Escalation, b.Escalation)
}

// membershipKey names a membership row in reports: TEAM_KEY|TYPE|MEMBER_KEY.
func membershipKey(row *archive.Row) string {
	return row.Value("TEAM_KEY") + "|" + row.Value("MEMBER_TYPE") + "|" + row.Value("MEMBER_KEY")
}

// memberships sets the members of shifts. A shift that DS_TEAMS upserted
// gets exactly the members listed for it; other shifts get the listed
// members added or updated (and R rows removed).
func (r *run) memberships() error {
	l := layout(archive.FileMemberships)
	want := map[uuid.UUID][]*directory.Member{}
	for id := range r.replaced {
		want[id] = nil
	}
	type rowMember struct {
		line int
		key  string
		m    *directory.Member
	}
	var rows []rowMember
	err := r.each(l, membershipKey, func(row *archive.Row, key string) error {
		m, fail := r.member(row.Value, true)
		if fail != nil {
			r.fail(l, row.Line, key, fail.event, fail.field, fail.value, fail.msg)
			return nil
		}
		m.Sequence, m.Owned = atoi(row.Value("MEMBER_SEQUENCE_NUMBER")), yes(row.Value("IS_EXTERNALLY_OWNED"))
		if _, replaced := want[m.ShiftID]; !replaced {
			want[m.ShiftID] = slices.Clone(r.x.members[m.ShiftID])
		}
		ms := want[m.ShiftID]
		if i := slices.IndexFunc(ms, func(o *directory.Member) bool { return o.Type == m.Type && o.MemberID == m.MemberID }); i >= 0 && !r.replaced[m.ShiftID] {
			ms[i] = m
		} else {
			ms = append(ms, m)
		}
		want[m.ShiftID] = ms
		rows = append(rows, rowMember{row.Line, key, m})
		return nil
	})
	if err != nil {
		return err
	}
	for _, rm := range rows {
		outcome := Inserted
		for _, o := range r.x.members[rm.m.ShiftID] {
			if o.Type == rm.m.Type && o.MemberID == rm.m.MemberID {
				outcome = Updated
				if *o == *rm.m {
					outcome = Unchanged
				}
			}
		}
		r.outcome(l, rm.line, rm.key, outcome)
	}
	if r.man.Mirror {
		r.sweepMembers(want)
	}
	// R rows of memberships are handled here, not in the removal phase:
	// they name a member, not an object with a key.
	rest := r.removals[:0]
	for _, rm := range r.removals {
		if rm.layout != l {
			rest = append(rest, rm)
			continue
		}
		m, fail := r.member(func(col string) string { return rm.vals[col] }, false)
		if fail != nil {
			r.detail(l, rm.line, rm.key, "WARNING", "ROW", "NOT_FOUND", fail.field, fail.value, fail.msg+"; nothing to remove")
			r.outcome(l, rm.line, rm.key, Ignored)
			continue
		}
		cur := want[m.ShiftID]
		if _, seen := want[m.ShiftID]; !seen {
			cur = slices.Clone(r.x.members[m.ShiftID])
		}
		i := slices.IndexFunc(cur, func(o *directory.Member) bool { return o.Type == m.Type && o.MemberID == m.MemberID })
		if i < 0 {
			r.detail(l, rm.line, rm.key, "WARNING", "ROW", "NOT_FOUND", "", "", "the shift has no such member; nothing to remove")
			r.outcome(l, rm.line, rm.key, Ignored)
			continue
		}
		want[m.ShiftID] = slices.Delete(cur, i, i+1)
		r.outcome(l, rm.line, rm.key, Removed)
	}
	r.removals = rest
	changed := map[uuid.UUID][]*directory.Member{}
	for id, ms := range want {
		slices.SortStableFunc(ms, func(a, b *directory.Member) int { return a.Sequence - b.Sequence })
		if !sameMembers(ms, r.x.members[id]) {
			changed[id] = ms
			r.x.members[id] = ms
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return r.tx.SetMembers(changed)
}

func sameMembers(a, b []*directory.Member) bool {
	return slices.EqualFunc(a, b, func(x, y *directory.Member) bool { return *x == *y })
}

// problem is why a row cannot be applied.
type problem struct{ event, field, value, msg string }

// member resolves a membership row (its values by column): the shift and
// the member object. With cascade, a reference to an object whose row in
// this archive failed fails too; a removal (cascade false) only needs the
// objects to exist.
func (r *run) member(get func(string) string, cascade bool) (*directory.Member, *problem) {
	failed := func(file, key string) bool { return cascade && r.cascades(file, key) }
	teamKey := get("TEAM_KEY")
	shift := r.x.shiftByKey[teamKey]
	if shift == nil || failed(archive.FileTeams, teamKey) {
		event, msg := r.dependency(archive.FileTeams, teamKey, "TEAM_KEY")
		return nil, &problem{event, "TEAM_KEY", teamKey, msg}
	}
	t, memberKey := directory.MemberType(get("MEMBER_TYPE")), get("MEMBER_KEY")
	var id uuid.UUID
	var file string
	switch t {
	case directory.MemberPerson:
		file = archive.FileUsers
		if p := r.x.personByKey(memberKey); p != nil {
			id = p.id
		}
	case directory.MemberGroup:
		file = archive.FileGroups
		if g := r.x.groupByKey[memberKey]; g != nil {
			id = g.ID
		}
	case directory.MemberShift:
		file = archive.FileTeams
		if s := r.x.shiftByKey[memberKey]; s != nil {
			id = s.ID
		}
	case directory.MemberDevice:
		sub := directory.DeviceType(get("MEMBER_SUB_TYPE"))
		for _, dl := range archive.Layouts(r.man.Version) {
			if dl.DeviceType == string(sub) {
				file = dl.Name
			}
		}
		if d := r.x.deviceByKey(sub, memberKey); d != nil {
			id = d.id
		} else if newID, ok := r.newDevices[sub][memberKey]; ok {
			id = newID
		}
	}
	if id == uuid.Nil || failed(file, memberKey) {
		event, msg := r.dependency(file, memberKey, "MEMBER_KEY")
		return nil, &problem{event, "MEMBER_KEY", memberKey, msg}
	}
	if t == directory.MemberShift && id == shift.ID || t == directory.MemberGroup && id == shift.GroupID {
		return nil, &problem{"MEMBER_CYCLE", "MEMBER_KEY", memberKey, "a shift cannot contain itself or its own group"}
	}
	return &directory.Member{ShiftID: shift.ID, Type: t, MemberID: id}, nil
}

// sweepMembers applies mirror to memberships: a shift that stays but that
// DS_TEAMS did not upsert loses the members no membership row named.
// Members without an external key cannot be named and stay, like every
// object made by hand.
func (r *run) sweepMembers(want map[uuid.UUID][]*directory.Member) {
	for id, s := range r.x.shifts {
		if s.ExternalKey == "" || r.replaced[id] || !r.named.has(archive.FileTeams, s.ExternalKey) {
			continue // made by hand, members from the file, or removed by mirror
		}
		cur, seen := want[id]
		if !seen {
			cur = r.x.members[id]
		}
		keep := slices.DeleteFunc(slices.Clone(cur), func(m *directory.Member) bool {
			key := r.x.externalKeyOf(m)
			return key != "" && !r.named.has(archive.FileMemberships, s.ExternalKey+"|"+string(m.Type)+"|"+key)
		})
		if len(keep) != len(cur) {
			want[id] = keep
		}
	}
}
