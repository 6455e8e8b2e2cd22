package directory

// Config is a company's configuration (interfaces.md §2).
type Config struct {
	Roles           []string                `json:"roles"`
	DeviceNames     map[DeviceType][]string `json:"deviceNames"`
	PagingProviders []string                `json:"pagingProviders"`
	CustomFields    []CustomField           `json:"customFields"`
	// TimeZones and Languages enabled for the company; empty means every
	// name of the bundled lists.
	TimeZones []string     `json:"timeZones,omitempty"`
	Languages []string     `json:"languages,omitempty"`
	Limits    SafetyLimits `json:"limits"`
}

// CustomField is a field a person may have a value of.
type CustomField struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// SafetyLimits is the safety gate of processing.md §6.
type SafetyLimits struct {
	Enabled bool `json:"enabled"`
	// A job is held when it would remove more than RemovePercent % and more
	// than RemoveMin objects of any type ...
	RemovePercent int `json:"removePercent"`
	RemoveMin     int `json:"removeMin"`
	// ... or when its archive has fewer people than this percentage of the
	// company's EPIC-owned people.
	MinPeoplePercent int `json:"minPeoplePercent"`
}

// DefaultConfig is the configuration of a new company: generated archives
// apply to it cleanly.
func DefaultConfig() Config {
	return Config{
		Roles: []string{"Standard User", "Group Supervisor", "Company Administrator", "Full Access User", "Person Supervisor"},
		DeviceNames: map[DeviceType][]string{
			Email:        {"Work Email", "Home Email"},
			Voice:        {"Work Phone", "Home Phone", "Mobile Phone"},
			TextPhone:    {"SMS Phone"},
			TextPager:    {"Pager"},
			NumericPager: {"Numeric Pager"},
			IM:           {"IM"},
			VoiceIVR:     {"Voice IVR"},
			Fax:          {"Fax"},
		},
		PagingProviders: []string{"Generic Paging"},
		CustomFields: []CustomField{
			{Key: "DEPARTMENT", Name: "Department"},
			{Key: "COST_CENTER", Name: "Cost Center"},
			{Key: "EMPLOYEE_TYPE", Name: "Employee Type"},
		},
		Limits: SafetyLimits{Enabled: true, RemovePercent: 10, RemoveMin: 25, MinPeoplePercent: 50},
	}
}
