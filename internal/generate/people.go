package generate

import (
	"math/bits"
	"math/rand/v2"

	"github.com/epicsync/epic/internal/archive"
)

// Streams: each kind of derived data has its own random stream per index,
// so a file that needs one kind does not pay for the others, and adding a
// draw to one kind does not change the others.
const (
	streamPerson uint64 = iota + 1
	streamDevices
	streamCustom
	streamGroup
	streamSite
	streamVariant // the offset of the variant's order of people
	streamChange  // a changed person's new LAST_NAME
)

// stream is a reusable random source, reseeded for each derived object.
// It draws from PCG (a fixed, published algorithm) directly and bounds
// numbers itself, rather than through rand.Rand, whose methods'
// algorithms are not promised to stay the same across Go releases; the
// golden test would notice a change.
type stream struct {
	pcg rand.PCG
}

func newStream() *stream { return &stream{} }

// reset seeds the stream for object i of kind under seed.
func (s *stream) reset(seed int64, kind uint64, i int) {
	a := mix(uint64(seed), kind)
	s.pcg.Seed(a, mix(uint64(i), a))
}

// mix is a SplitMix64-style finalizer of a and b.
func mix(a, b uint64) uint64 {
	z := a + (b+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// u64 returns 64 random bits.
func (s *stream) u64() uint64 { return s.pcg.Uint64() }

// intn returns a number in [0, n), n > 0, by multiply-shift (Lemire); its
// bias, below n/2^64, does not matter here.
func (s *stream) intn(n int) int {
	hi, _ := bits.Mul64(s.pcg.Uint64(), uint64(n))
	return int(hi)
}

// chance reports true with probability per/1000.
func (s *stream) chance(per int) bool { return s.intn(1000) < per }

// deviceKind is a device name of the default configuration with the file
// its devices go to.
type deviceKind struct {
	name    string // DEVICE_NAME
	file    string // device file
	subType string // MEMBER_SUB_TYPE
	weight  int    // relative frequency
	mobile  bool   // phone kinds: a mobile rather than a landline number
}

// Device kinds; the index is stored in a person's device list.
const (
	kWorkEmail = iota
	kHomeEmail
	kWorkPhone
	kHomePhone
	kMobilePhone
	kSMS
	kPager
	kNumericPager
	kIM
	kVoiceIVR
	kFax
	numKinds
)

var kinds = [numKinds]deviceKind{
	kWorkEmail:    {"Work Email", archive.FileEmail, "EMAIL", 100, false},
	kHomeEmail:    {"Home Email", archive.FileEmail, "EMAIL", 15, false},
	kWorkPhone:    {"Work Phone", archive.FileVoice, "VOICE", 40, false},
	kHomePhone:    {"Home Phone", archive.FileVoice, "VOICE", 12, false},
	kMobilePhone:  {"Mobile Phone", archive.FileVoice, "VOICE", 60, true},
	kSMS:          {"SMS Phone", archive.FileTextPhone, "TEXT_PHONE", 35, true},
	kPager:        {"Pager", archive.FileTextPager, "TEXT_PAGER", 8, false},
	kNumericPager: {"Numeric Pager", archive.FileNumericPager, "NUMERIC_PAGER", 3, false},
	kIM:           {"IM", archive.FileIM, "IM", 5, false},
	kVoiceIVR:     {"Voice IVR", archive.FileVoiceIVR, "VOICE_IVR", 2, false},
	kFax:          {"Fax", archive.FileFax, "FAX", 2, false},
}

// identity is what other rows need to name a person: site and names.
type identity struct {
	site        int
	cult        culture // of the names
	first, last *name
}

// profile is the rest of a person's DS_USERS row.
type profile struct {
	inactive bool
	notOwned bool
	roles    string
	lang     string // LANGUAGE_OVERRIDE
	tz       string // TIMEZONE_OVERRIDE
	nsup     int
	sup      [2]int // indexes of earlier people
}

// device is one device of a person.
type device struct {
	kind     uint8
	delay    uint8
	inactive bool
	lock     bool
	notOwned bool
	noCC     bool   // leave COUNTRY / COUNTRY_CODE empty
	ext      uint16 // EXTENSION, 0 for none
	num      uint64 // digits of the number, PIN or address
}

// devices is a person's device list in DEVICE_ORDER.
type devices struct {
	n      int
	dev    [4]device
	mobile uint64 // digits of the mobile number, shared by Mobile Phone and SMS Phone
}

// custom is a person's custom values; -1 means no value.
type custom struct {
	dept, costCenter, etype int
}

// identity derives the site and names of person i.
func (g *gen) identity(s *stream, i int) identity {
	s.reset(g.seed, streamPerson, i)
	n := g.nSites
	st := min(s.intn(n), s.intn(n)) // bias to the first (bigger) sites
	c := sites[st].culture
	if s.chance(250) {
		c = culture(s.intn(int(numCultures)))
	}
	t := &nameTables[c]
	return identity{site: st, cult: c, first: &t[0][s.intn(len(t[0]))], last: &t[1][s.intn(len(t[1]))]}
}

// profile derives the DS_USERS attributes of person i beyond identity; it
// continues the stream that identity(s, i) left.
func (g *gen) profile(s *stream, i int, id identity) profile {
	var p profile
	p.inactive = s.chance(30)
	p.notOwned = s.chance(20)
	w := s.intn(roleWeight)
	for _, rl := range roleLists {
		if w < rl.weight {
			p.roles = rl.roles
			break
		}
		w -= rl.weight
	}
	if s.chance(50) {
		p.lang = overrideLanguages[s.intn(len(overrideLanguages))]
		if p.lang == sites[id.site].lang {
			p.lang = ""
		}
	}
	if s.chance(30) {
		p.tz = sites[s.intn(g.nSites)].tz
		if p.tz == sites[id.site].tz {
			p.tz = ""
		}
	}
	if i > 0 && s.chance(90) {
		back := min(i, 500)
		p.sup[0] = i - 1 - s.intn(back)
		p.nsup = 1
		if s.chance(100) {
			if j := i - 1 - s.intn(back); j != p.sup[0] {
				p.sup[1] = j
				p.nsup = 2
			}
		}
	}
	return p
}

var overrideLanguages = []string{"en", "en", "de", "fr", "es", "pt", "ja", "it", "nl", "pl"}

// devices derives the device list of person i: 1 to 4 devices with
// distinct names, of the kinds the archive version has.
func (g *gen) devices(s *stream, i int) devices {
	s.reset(g.seed, streamDevices, i)
	var d devices
	d.mobile = s.u64()
	switch x := s.intn(100); {
	case x < 15:
		d.n = 1
	case x < 55:
		d.n = 2
	case x < 85:
		d.n = 3
	default:
		d.n = 4
	}
	var taken [numKinds]bool
	for k := 0; k < d.n; k++ {
		var kind int
		if k == 0 && s.chance(850) {
			kind = kWorkEmail
		} else {
			total := 0
			for j := range kinds {
				if !taken[j] && g.has[j] {
					total += kinds[j].weight
				}
			}
			w := s.intn(total)
			for j := range kinds {
				if taken[j] || !g.has[j] {
					continue
				}
				if w < kinds[j].weight {
					kind = j
					break
				}
				w -= kinds[j].weight
			}
		}
		taken[kind] = true
		dv := &d.dev[k]
		dv.kind = uint8(kind)
		if k > 0 {
			dv.delay = [...]uint8{0, 5, 5, 10, 10, 15}[s.intn(6)]
		}
		dv.inactive = s.chance(20)
		dv.lock = s.chance(100)
		dv.notOwned = s.chance(20)
		dv.noCC = s.chance(250)
		if kind == kWorkPhone && s.chance(300) {
			dv.ext = uint16(1000 + s.intn(9000))
		}
		dv.num = s.u64()
	}
	return d
}

// custom derives the custom values of person i: most people have most.
func (g *gen) custom(s *stream, i int) custom {
	s.reset(g.seed, streamCustom, i)
	c := custom{dept: -1, costCenter: -1, etype: -1}
	if s.chance(920) {
		c.dept = s.intn(len(departments))
	}
	if s.chance(850) {
		c.costCenter = 1000 + s.intn(900)
	}
	if s.chance(900) {
		c.etype = s.intn(len(employeeTypes))
	}
	return c
}
