package directory

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors of every Store.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// DeviceType is one of the eight device types.
type DeviceType string

// Device types, in the order the engine applies their files.
const (
	Email        DeviceType = "EMAIL"
	Voice        DeviceType = "VOICE"
	TextPhone    DeviceType = "TEXT_PHONE"
	TextPager    DeviceType = "TEXT_PAGER"
	NumericPager DeviceType = "NUMERIC_PAGER"
	IM           DeviceType = "IM"
	VoiceIVR     DeviceType = "VOICE_IVR"
	Fax          DeviceType = "FAX"
)

// DeviceTypes lists every device type in apply order.
var DeviceTypes = []DeviceType{Email, Voice, TextPhone, TextPager, NumericPager, IM, VoiceIVR, Fax}

// Common holds what every object has: its identity, the customer's external
// key (empty for objects made by hand and never adopted) and whether the
// customer's system owns it.
type Common struct {
	ID          uuid.UUID
	ExternalKey string
	Owned       bool // IS_EXTERNALLY_OWNED
}

// Site is a location with a time zone and holidays.
type Site struct {
	Common
	Name       string
	Status     string // ACTIVE or INACTIVE
	TimeZone   string
	Language   string
	Country    string
	Address1   string
	Address2   string
	City       string
	State      string
	PostalCode string
	Latitude   string // decimal degrees as written, or empty
	Longitude  string
}

// Person is someone who can be notified.
type Person struct {
	Common
	TargetName  string // USER_ID, unique in the company (case-insensitively)
	FirstName   string
	LastName    string
	Status      string
	SiteID      uuid.UUID
	Language    string // override of the site's, or empty
	TimeZone    string // override of the site's, or empty
	WebLogin    string
	Roles       []string
	Supervisors []uuid.UUID // people
	// PasswordSet is false for people created by EPIC with
	// forceNewPasswordReset: they must reset before logging in.
	PasswordSet bool
}

// Device is one way to reach a person.
type Device struct {
	Common
	OwnerID  uuid.UUID
	Type     DeviceType
	Name     string // unique per owner (case-insensitively)
	Status   string
	Default  bool
	Order    int
	Delay    int
	Lock24x7 bool
	// Address: which fields are used depends on Type.
	Address     string // EMAIL, IM
	Country     string // VOICE, VOICE_IVR
	AreaCode    string
	Phone       string // VOICE, VOICE_IVR, TEXT_PHONE (target number), FAX
	Extension   string
	PIN         string // pagers
	Provider    string // pagers
	CountryCode string // TEXT_PHONE, FAX
}

// CustomValue is a person's value of a custom field.
type CustomValue struct {
	Common
	PersonID uuid.UUID
	FieldKey string
	Value    string
}

// Group is an on-call group.
type Group struct {
	Common
	TargetName        string // GROUP_NAME; shares the name space of people
	Description       string
	Status            string
	UseDefaultDevices bool
	TimeZone          string
	SiteID            uuid.UUID // uuid.Nil: none
	ObservedByAll     bool
	Observers         []string // role names
	Supervisors       []uuid.UUID
	AllowDuplicates   bool
}

// Shift is a rotation of a group (DS_TEAMS).
type Shift struct {
	Common
	GroupID           uuid.UUID
	Name              string // unique within its group (case-insensitively)
	Description       string
	UseDefaultDevices bool
	Escalation        []int // minutes before each member in order
	RoundRobin        bool
}

// MemberType is what a shift member is.
type MemberType string

// Member types.
const (
	MemberPerson MemberType = "PERSON"
	MemberGroup  MemberType = "GROUP"
	MemberShift  MemberType = "TEAM"
	MemberDevice MemberType = "DEVICE"
)

// Member is one entry of a shift's escalation order.
type Member struct {
	ShiftID  uuid.UUID
	Type     MemberType
	MemberID uuid.UUID
	Sequence int
	Owned    bool
}

// Company is one tenant.
type Company struct {
	ID          uuid.UUID
	Name        string
	EpicEnabled bool
	Config      Config
	Created     time.Time
}

// Base returns the fields every object shares; it lets code written once
// for all object types reach them.
func (c *Common) Base() *Common { return c }
