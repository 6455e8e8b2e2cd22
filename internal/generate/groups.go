package generate

import (
	"fmt"
	"strconv"
)

const (
	minGroupSize = 3
	maxGroupSize = 40
	maxShifts    = 3
	// peoplePerGroup: about one group per this many people.
	peoplePerGroup = 25
	// subGroupReach: a shift may contain one of the next this many groups.
	// Pointing only forward keeps group nesting free of cycles.
	subGroupReach = 50
)

// groupCount is the number of groups for users people: one per 25, at
// least one when there are enough people for a group.
func groupCount(users int) int {
	if users < minGroupSize {
		return 0
	}
	return max(1, users/peoplePerGroup)
}

// group is everything about one group, its shifts and their members.
// Members come from a window of people near the group's share of the
// index range, so nothing global is needed to choose them.
type group struct {
	fn, desc  int
	inactive  bool
	noDefault bool
	site      int
	nmem      int
	mem       [maxGroupSize]int32 // person indexes, in escalation order
	inShift   [maxGroupSize]uint8 // per member: bit k = member of shift k
	set       []shift
	sched     [maxShifts]int
	roundRob  [maxShifts]bool
	devOwner  [maxShifts]int32 // person whose device is a member; -1: none
	devKind   [maxShifts]uint8
	sub       [maxShifts]int32 // group that is a member; -1: none
	nsup      int
	observe   int // 0: observed by all; 1, 2: observer list; 3: unset
	allowDup  string
	notOwned  bool
	groupSite bool // GROUP_SITE_NAME is set
}

var observerLists = []string{"", "Standard User,Group Supervisor", "Group Supervisor", ""}

// group derives group gi. It uses the group stream and the aux stream.
func (g *gen) group(gi int) *group {
	s := g.sg
	s.reset(g.seed, streamGroup, gi)
	gr := &group{}
	size := min(g.users, minGroupSize+s.intn(s.intn(maxGroupSize-minGroupSize+1)+1))
	width := min(g.users, max(2*size, 64))
	start := gi*g.users/g.nGroups - width/4
	start = max(0, min(start, g.users-width))
	var pool [2 * maxGroupSize]int32
	if width > len(pool) {
		width = len(pool)
	}
	for k := range width {
		pool[k] = int32(start + k)
	}
	for k := range size { // partial Fisher-Yates: size distinct people
		j := k + s.intn(width-k)
		pool[k], pool[j] = pool[j], pool[k]
		gr.mem[k] = pool[k]
	}
	gr.nmem = size
	var nshift int
	switch x := s.intn(100); {
	case x < 50:
		nshift = 1
	case x < 85:
		nshift = 2
	default:
		nshift = 3
	}
	gr.set = shiftSets[nshift][s.intn(len(shiftSets[nshift]))]
	for m := range size {
		primary := m % nshift
		bits := uint8(1) << primary
		for k := range nshift {
			if k != primary && s.chance(150) {
				bits |= 1 << k
			}
		}
		gr.inShift[m] = bits
	}
	for k := range nshift {
		gr.sched[k] = s.intn(len(schedules))
		gr.roundRob[k] = s.chance(150)
		gr.devOwner[k], gr.sub[k] = -1, -1
		if s.chance(150) {
			owner := gr.mem[s.intn(size)]
			d := g.devices(g.sx, int(owner))
			gr.devOwner[k], gr.devKind[k] = owner, d.dev[s.intn(d.n)].kind
		}
		if rest := g.nGroups - gi - 1; rest > 0 && s.chance(100) {
			gr.sub[k] = int32(gi + 1 + s.intn(min(rest, subGroupReach)))
		}
	}
	gr.fn = s.intn(len(groupFunctions))
	gr.desc = s.intn(len(groupDescriptions))
	gr.inactive = s.chance(30)
	gr.noDefault = s.chance(100)
	gr.notOwned = s.chance(20)
	switch x := s.intn(100); {
	case x < 60:
		gr.nsup = 1
	case x < 75:
		gr.nsup = min(2, size)
	}
	switch x := s.intn(100); {
	case x < 70:
		gr.observe = 0
	case x < 85:
		gr.observe = 1
	case x < 95:
		gr.observe = 2
	default:
		gr.observe = 3
	}
	gr.allowDup = [...]string{"Y", "Y", "Y", "N", ""}[s.intn(5)]
	gr.groupSite = s.chance(900)
	gr.site = g.identity(g.sx, int(gr.mem[0])).site
	return gr
}

// appendGroupKey appends the EXTERNAL_KEY of group gi: G000001 for gi = 0.
func appendGroupKey(b []byte, gi int) []byte {
	return appendPad(append(b, 'G'), gi+1, 6)
}

// appendShiftKey appends the EXTERNAL_KEY of a shift: G000001_day.
func appendShiftKey(b []byte, gi int, sh *shift) []byte {
	b = append(appendGroupKey(b, gi), '_')
	return append(b, sh.suffix...)
}

func (g *gen) writeGroups(rw *rowWriter) error {
	var (
		cKey, cName, cDesc, cStatus = rw.col("EXTERNAL_KEY"), rw.col("GROUP_NAME"), rw.col("DESCRIPTION"), rw.col("STATUS")
		cDefault, cTZ, cSite        = rw.col("USE_DEFAULT_DEVICES"), rw.col("TIMEZONE"), rw.col("GROUP_SITE_NAME")
		cAll, cObservers, cSup      = rw.col("OBSERVED_BY_ALL"), rw.col("OBSERVER_LIST"), rw.col("SUPERVISOR_LIST")
		cDup, cOwned, cAct          = rw.col("ALLOW_DUPLICATES"), rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	for gi := 0; gi < g.nGroups; gi++ {
		gr := g.group(gi)
		fn := groupFunctions[gr.fn]
		lo := rw.mark()
		rw.b = appendGroupKey(rw.b, gi)
		rw.done(cKey, lo)
		// "Team <function> <n>": the space keeps it apart from every
		// USER_ID, the number makes it unique.
		lo = rw.mark()
		rw.b = append(rw.b, "Team "...)
		rw.b = append(rw.b, fn...)
		rw.b = append(rw.b, ' ')
		rw.b = strconv.AppendInt(rw.b, int64(gi+1), 10)
		rw.done(cName, lo)
		if d := groupDescriptions[gr.desc]; d != "" {
			rw.row[cDesc] = fmt.Sprintf(d, fn)
		}
		rw.row[cStatus] = active(gr.inactive)
		rw.row[cDefault] = yn(!gr.noDefault)
		rw.row[cTZ] = sites[gr.site].tz
		if gr.groupSite {
			rw.row[cSite] = sites[gr.site].name
		}
		switch gr.observe {
		case 0:
			rw.row[cAll] = "Y"
		case 1, 2:
			rw.row[cAll] = "N"
			rw.row[cObservers] = observerLists[gr.observe]
		}
		if gr.nsup > 0 {
			lo = rw.mark()
			for k := 0; k < gr.nsup; k++ {
				p := int(gr.mem[k])
				if g.v.dropped(p) {
					continue
				}
				if len(rw.b) > lo {
					rw.b = append(rw.b, ',')
				}
				rw.b = appendUserID(rw.b, g.identity(g.sx, p), p)
			}
			if len(rw.b) > lo {
				rw.done(cSup, lo)
			}
		}
		rw.row[cDup] = gr.allowDup
		rw.row[cOwned] = yn(!gr.notOwned)
		rw.row[cAct] = "Y"
		if err := rw.write(); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) writeTeams(rw *rowWriter) error {
	var (
		cKey, cGroup, cName, cDesc = rw.col("EXTERNAL_KEY"), rw.col("GROUP_KEY"), rw.col("SUB_TARGET_NAME"), rw.col("DESCRIPTION")
		cDefault, cSched, cRR      = rw.col("USE_DEFAULT_DEVICES"), rw.col("ESCALATION_SCHEDULE"), rw.col("IS_ROUND_ROBIN")
		cOwned, cAct               = rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	for gi := 0; gi < g.nGroups; gi++ {
		gr := g.group(gi)
		for k := range gr.set {
			sh := &gr.set[k]
			lo := rw.mark()
			rw.b = appendGroupKey(rw.b, gi)
			rw.done(cGroup, lo)
			rw.b = append(rw.b, '_')
			rw.b = append(rw.b, sh.suffix...)
			rw.done(cKey, lo)
			rw.row[cName] = sh.name
			rw.row[cDesc] = sh.description
			rw.row[cDefault] = "Y"
			rw.row[cSched] = schedules[gr.sched[k]]
			rw.row[cRR] = yn(gr.roundRob[k])
			rw.row[cOwned] = "Y"
			rw.row[cAct] = "Y"
			if err := rw.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gen) writeMemberships(rw *rowWriter) error {
	var (
		cTeam, cMember, cType, cSub = rw.col("TEAM_KEY"), rw.col("MEMBER_KEY"), rw.col("MEMBER_TYPE"), rw.col("MEMBER_SUB_TYPE")
		cSeq, cOwned, cAct          = rw.col("MEMBER_SEQUENCE_NUMBER"), rw.col("IS_EXTERNALLY_OWNED"), rw.col("ACTION")
	)
	for gi := 0; gi < g.nGroups; gi++ {
		gr := g.group(gi)
		for k := range gr.set {
			sh := &gr.set[k]
			seq := 0
			// row starts a membership row of this shift; the caller adds
			// the member.
			row := func(typ string) {
				seq++
				lo := rw.mark()
				rw.b = appendShiftKey(rw.b, gi, sh)
				rw.done(cTeam, lo)
				rw.row[cType] = typ
				lo = rw.mark()
				rw.b = strconv.AppendInt(rw.b, int64(seq), 10)
				rw.done(cSeq, lo)
				rw.row[cOwned] = "Y"
				rw.row[cAct] = "Y"
			}
			for m := 0; m < gr.nmem; m++ {
				if gr.inShift[m]&(1<<k) == 0 || g.v.dropped(int(gr.mem[m])) {
					continue
				}
				row("PERSON")
				lo := rw.mark()
				rw.b = appendUserKey(rw.b, int(gr.mem[m]))
				rw.done(cMember, lo)
				if err := rw.write(); err != nil {
					return err
				}
			}
			if owner := gr.devOwner[k]; owner >= 0 && !g.v.dropped(int(owner)) {
				kind := &kinds[gr.devKind[k]]
				row("DEVICE")
				lo := rw.mark()
				rw.b = appendUserKey(rw.b, int(owner))
				rw.b = append(rw.b, '-')
				rw.b = append(rw.b, kind.name...)
				rw.done(cMember, lo)
				rw.row[cSub] = kind.subType
				if err := rw.write(); err != nil {
					return err
				}
			}
			if sub := gr.sub[k]; sub >= 0 {
				row("GROUP")
				lo := rw.mark()
				rw.b = appendGroupKey(rw.b, int(sub))
				rw.done(cMember, lo)
				if err := rw.write(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
