package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

func (s *server) healthz(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		return errorf(http.StatusServiceUnavailable, "the database does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *server) metrics(w http.ResponseWriter, r *http.Request, c *call) error {
	s.Metrics.handler.ServeHTTP(w, r)
	return nil
}

func (s *server) version(w http.ResponseWriter, r *http.Request, c *call) error {
	vs := make([]string, len(archive.Versions))
	for i, v := range archive.Versions {
		vs[i] = string(v)
	}
	writeJSON(w, http.StatusOK, struct {
		Version          string   `json:"version"`
		ArchiveVersions  []string `json:"archiveVersions"`
		MinClientVersion string   `json:"minClientVersion"`
	}{s.Version, vs, MinClientVersion})
	return nil
}

// ref is a reference to another object: {id, targetName or name, links}.
type ref struct {
	ID            string `json:"id"`
	TargetName    string `json:"targetName,omitempty"`
	Name          string `json:"name,omitempty"`
	RecipientType string `json:"recipientType,omitempty"`
	Links         *links `json:"links,omitempty"`
}

func personRef(p *directory.Person) ref {
	return ref{ID: p.ID.String(), TargetName: p.TargetName, RecipientType: "PERSON",
		Links: &links{Self: "/api/xm/1/people/" + p.ID.String()}}
}

// personRefs are the references of the people of ids found in people, in
// the order of ids; ids not found (removed meanwhile) are left out.
func personRefs(ids []uuid.UUID, people map[uuid.UUID]*directory.Person) []ref {
	var l []ref
	for _, id := range ids {
		if p := people[id]; p != nil {
			l = append(l, personRef(p))
		}
	}
	return l
}

// roleID is a role's stable ID: roles are names in the company's
// configuration.
func roleID(company uuid.UUID, name string) string {
	return uuid.NewSHA1(company, []byte("role:"+strings.ToLower(name))).String()
}

func roleRefs(company uuid.UUID, names []string) []ref {
	out := make([]ref, len(names))
	for i, n := range names {
		out[i] = ref{ID: roleID(company, n), Name: n}
	}
	return out
}

type personJSON struct {
	ID              string            `json:"id"`
	TargetName      string            `json:"targetName"`
	RecipientType   string            `json:"recipientType"`
	ExternalKey     string            `json:"externalKey,omitempty"`
	ExternallyOwned bool              `json:"externallyOwned"`
	FirstName       string            `json:"firstName,omitempty"`
	LastName        string            `json:"lastName,omitempty"`
	Language        string            `json:"language,omitempty"`
	Timezone        string            `json:"timezone,omitempty"`
	WebLogin        string            `json:"webLogin,omitempty"`
	Site            *ref              `json:"site,omitempty"`
	Status          string            `json:"status,omitempty"`
	Roles           *list[ref]        `json:"roles,omitempty"`
	Supervisors     *list[ref]        `json:"supervisors,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"`
	Links           links             `json:"links"`
}

// embeds reads the embed parameter: a comma-separated list of allowed.
func embeds(r *http.Request, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["embed"] {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if !slices.Contains(allowed, e) {
				return nil, badRequest("embed %q: this list can embed %s", e, strings.Join(allowed, ", "))
			}
			out[e] = true
		}
	}
	return out, nil
}

// siteRefs returns references to the sites of ids.
func (s *server) siteRefs(ctx context.Context, c *call, ids []uuid.UUID) (map[uuid.UUID]*ref, error) {
	ids = distinct(ids)
	sites, _, err := s.Store.ReadSites(ctx, c.company.ID, directory.Query{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*ref, len(sites))
	for _, x := range sites {
		out[x.ID] = &ref{ID: x.ID.String(), Name: x.Name, Links: &links{Self: "/api/xm/1/sites/" + x.ID.String()}}
	}
	return out, nil
}

// peopleByID reads the people of ids.
func (s *server) peopleByID(ctx context.Context, c *call, ids []uuid.UUID) (map[uuid.UUID]*directory.Person, error) {
	ids = distinct(ids)
	people, _, err := s.Store.ReadPeople(ctx, c.company.ID, directory.Query{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*directory.Person, len(people))
	for _, p := range people {
		out[p.ID] = p
	}
	return out, nil
}

// distinct returns ids without uuid.Nil and repeats.
func distinct(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	out := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if id != uuid.Nil && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// peopleOut makes the JSON of people, with what embed asks for.
func (s *server) peopleOut(ctx context.Context, c *call, people []*directory.Person, embed map[string]bool) ([]personJSON, error) {
	var siteIDs, ids, sups []uuid.UUID
	for _, p := range people {
		siteIDs = append(siteIDs, p.SiteID)
		ids = append(ids, p.ID)
		sups = append(sups, p.Supervisors...)
	}
	sites, err := s.siteRefs(ctx, c, siteIDs)
	if err != nil {
		return nil, err
	}
	values, err := s.Store.ReadCustomValues(ctx, c.company.ID, ids)
	if err != nil {
		return nil, err
	}
	fieldName := map[string]string{}
	for _, f := range c.company.Config.CustomFields {
		fieldName[f.Key] = f.Name
	}
	props := map[uuid.UUID]map[string]string{}
	for _, v := range values {
		if props[v.PersonID] == nil {
			props[v.PersonID] = map[string]string{}
		}
		name := fieldName[v.FieldKey]
		if name == "" {
			name = v.FieldKey
		}
		props[v.PersonID][name] = v.Value
	}
	var supervisors map[uuid.UUID]*directory.Person
	if embed["supervisors"] {
		if supervisors, err = s.peopleByID(ctx, c, sups); err != nil {
			return nil, err
		}
	}
	out := make([]personJSON, len(people))
	for i, p := range people {
		o := personJSON{
			ID: p.ID.String(), TargetName: p.TargetName, RecipientType: "PERSON", ExternalKey: p.ExternalKey,
			ExternallyOwned: p.Owned, FirstName: p.FirstName, LastName: p.LastName, Language: p.Language,
			Timezone: p.TimeZone, WebLogin: p.WebLogin, Site: sites[p.SiteID], Status: p.Status,
			Properties: props[p.ID], Links: links{Self: "/api/xm/1/people/" + p.ID.String()},
		}
		if embed["roles"] {
			o.Roles = embedded(roleRefs(c.company.ID, p.Roles))
		}
		if embed["supervisors"] {
			o.Supervisors = embedded(personRefs(p.Supervisors, supervisors))
		}
		out[i] = o
	}
	return out, nil
}

func (s *server) people(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	embed, err := embeds(r, "roles", "supervisors")
	if err != nil {
		return err
	}
	people, total, err := s.Store.ReadPeople(r.Context(), c.company.ID, directory.Query{Offset: p.offset, Limit: p.limit})
	if err != nil {
		return err
	}
	out, err := s.peopleOut(r.Context(), c, people, embed)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, out, total))
	return nil
}

// lookup finds an object by the path's id: its UUID, else its name.
func lookup[T any](ctx context.Context, id string, read func(directory.Query) ([]*T, int, error)) (*T, error) {
	if u, err := uuid.Parse(id); err == nil {
		l, _, err := read(directory.Query{ID: u})
		if err != nil || len(l) > 0 {
			return first(l), err
		}
	}
	if id == "" {
		return nil, nil
	}
	l, _, err := read(directory.Query{Name: id})
	return first(l), err
}

func first[T any](l []*T) *T {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

func (s *server) findPerson(r *http.Request, c *call) (*directory.Person, error) {
	p, err := lookup(r.Context(), c.params[0], func(q directory.Query) ([]*directory.Person, int, error) {
		return s.Store.ReadPeople(r.Context(), c.company.ID, q)
	})
	if err == nil && p == nil {
		err = notFound("no person with the id or target name %q", c.params[0])
	}
	return p, err
}

func (s *server) person(w http.ResponseWriter, r *http.Request, c *call) error {
	embed, err := embeds(r, "roles", "supervisors")
	if err != nil {
		return err
	}
	p, err := s.findPerson(r, c)
	if err != nil {
		return err
	}
	out, err := s.peopleOut(r.Context(), c, []*directory.Person{p}, embed)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

func (s *server) personSupervisors(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	p, err := s.findPerson(r, c)
	if err != nil {
		return err
	}
	byID, err := s.peopleByID(r.Context(), c, p.Supervisors)
	if err != nil {
		return err
	}
	var sups []*directory.Person
	for _, id := range p.Supervisors {
		if x := byID[id]; x != nil {
			sups = append(sups, x)
		}
	}
	out, err := s.peopleOut(r.Context(), c, window(sups, pg), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, pg, out, len(sups)))
	return nil
}

type deviceJSON struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	TargetName      string `json:"targetName"`
	RecipientType   string `json:"recipientType"`
	DeviceType      string `json:"deviceType"`
	Owner           *ref   `json:"owner,omitempty"`
	EmailAddress    string `json:"emailAddress,omitempty"`
	PhoneNumber     string `json:"phoneNumber,omitempty"`
	Country         string `json:"country,omitempty"`
	AreaCode        string `json:"areaCode,omitempty"`
	Extension       string `json:"extension,omitempty"`
	CountryCode     string `json:"countryCode,omitempty"`
	PIN             string `json:"pin,omitempty"`
	Provider        *ref   `json:"provider,omitempty"`
	Delay           int    `json:"delay"`
	Sequence        int    `json:"sequence"`
	DefaultDevice   bool   `json:"defaultDevice"`
	Lock24x7        bool   `json:"lock24x7,omitempty"`
	Status          string `json:"status,omitempty"`
	ExternalKey     string `json:"externalKey,omitempty"`
	ExternallyOwned bool   `json:"externallyOwned"`
	Links           links  `json:"links"`
}

func (s *server) devicesOut(ctx context.Context, c *call, devices []*directory.Device) ([]deviceJSON, error) {
	var owners []uuid.UUID
	for _, d := range devices {
		owners = append(owners, d.OwnerID)
	}
	people, err := s.peopleByID(ctx, c, owners)
	if err != nil {
		return nil, err
	}
	out := make([]deviceJSON, len(devices))
	for i, d := range devices {
		o := deviceJSON{
			ID: d.ID.String(), Name: d.Name, TargetName: d.Name, RecipientType: "DEVICE", DeviceType: string(d.Type),
			Country: d.Country, AreaCode: d.AreaCode, Extension: d.Extension, CountryCode: d.CountryCode, PIN: d.PIN,
			Delay: d.Delay, Sequence: d.Order, DefaultDevice: d.Default, Lock24x7: d.Lock24x7, Status: d.Status,
			ExternalKey: d.ExternalKey, ExternallyOwned: d.Owned, Links: links{Self: "/api/xm/1/devices/" + d.ID.String()},
		}
		if p := people[d.OwnerID]; p != nil {
			r := personRef(p)
			o.Owner = &r
			o.TargetName = p.TargetName + "|" + d.Name
		}
		switch d.Type {
		case directory.Email, directory.IM:
			o.EmailAddress = d.Address
		default:
			o.PhoneNumber = d.Phone
		}
		if d.Provider != "" {
			o.Provider = &ref{ID: uuid.NewSHA1(c.company.ID, []byte("provider:"+d.Provider)).String(), Name: d.Provider}
		}
		out[i] = o
	}
	return out, nil
}

func (s *server) devicePage(w http.ResponseWriter, r *http.Request, c *call, owner uuid.UUID) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	devices, total, err := s.Store.ReadDevices(r.Context(), c.company.ID, directory.Query{Parent: owner, Offset: p.offset, Limit: p.limit})
	if err != nil {
		return err
	}
	out, err := s.devicesOut(r.Context(), c, devices)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, out, total))
	return nil
}

func (s *server) devices(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.devicePage(w, r, c, uuid.Nil)
}

func (s *server) personDevices(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.findPerson(r, c)
	if err != nil {
		return err
	}
	return s.devicePage(w, r, c, p.ID)
}

func (s *server) device(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx, id := r.Context(), c.params[0]
	var d *directory.Device
	if u, err := uuid.Parse(id); err == nil {
		l, _, err := s.Store.ReadDevices(ctx, c.company.ID, directory.Query{ID: u})
		if err != nil {
			return err
		}
		d = first(l)
	}
	if i := strings.LastIndex(id, "|"); d == nil && i > 0 {
		owner, err := lookup(ctx, id[:i], func(q directory.Query) ([]*directory.Person, int, error) {
			q.ID = uuid.Nil // an owner by target name only
			return s.Store.ReadPeople(ctx, c.company.ID, q)
		})
		if err != nil {
			return err
		}
		if owner != nil && id[i+1:] != "" {
			l, _, err := s.Store.ReadDevices(ctx, c.company.ID, directory.Query{Parent: owner.ID, Name: id[i+1:]})
			if err != nil {
				return err
			}
			d = first(l)
		}
	}
	if d == nil {
		return notFound("no device with the id or name %q (a name is written owner|Device Name)", id)
	}
	out, err := s.devicesOut(ctx, c, []*directory.Device{d})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

type groupJSON struct {
	ID                string     `json:"id"`
	TargetName        string     `json:"targetName"`
	RecipientType     string     `json:"recipientType"`
	GroupType         string     `json:"groupType"`
	Status            string     `json:"status,omitempty"`
	Description       string     `json:"description,omitempty"`
	Timezone          string     `json:"timezone,omitempty"`
	Site              *ref       `json:"site,omitempty"`
	AllowDuplicates   bool       `json:"allowDuplicates"`
	UseDefaultDevices bool       `json:"useDefaultDevices"`
	ObservedByAll     bool       `json:"observedByAll"`
	Observers         *list[ref] `json:"observers,omitempty"`
	Supervisors       *list[ref] `json:"supervisors,omitempty"`
	ExternalKey       string     `json:"externalKey,omitempty"`
	ExternallyOwned   bool       `json:"externallyOwned"`
	Links             links      `json:"links"`
}

func (s *server) groupsOut(ctx context.Context, c *call, groups []*directory.Group) ([]groupJSON, error) {
	var siteIDs, sups []uuid.UUID
	for _, g := range groups {
		siteIDs = append(siteIDs, g.SiteID)
		sups = append(sups, g.Supervisors...)
	}
	sites, err := s.siteRefs(ctx, c, siteIDs)
	if err != nil {
		return nil, err
	}
	people, err := s.peopleByID(ctx, c, sups)
	if err != nil {
		return nil, err
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		o := groupJSON{
			ID: g.ID.String(), TargetName: g.TargetName, RecipientType: "GROUP", GroupType: "ON_CALL", Status: g.Status,
			Description: g.Description, Timezone: g.TimeZone, Site: sites[g.SiteID], AllowDuplicates: g.AllowDuplicates,
			UseDefaultDevices: g.UseDefaultDevices, ObservedByAll: g.ObservedByAll, ExternalKey: g.ExternalKey,
			ExternallyOwned: g.Owned, Links: links{Self: "/api/xm/1/groups/" + g.ID.String()},
		}
		if len(g.Observers) > 0 {
			o.Observers = embedded(roleRefs(c.company.ID, g.Observers))
		}
		if len(g.Supervisors) > 0 {
			o.Supervisors = embedded(personRefs(g.Supervisors, people))
		}
		out[i] = o
	}
	return out, nil
}

func (s *server) groups(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	groups, total, err := s.Store.ReadGroups(r.Context(), c.company.ID, directory.Query{Offset: p.offset, Limit: p.limit})
	if err != nil {
		return err
	}
	out, err := s.groupsOut(r.Context(), c, groups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, out, total))
	return nil
}

func (s *server) findGroup(r *http.Request, c *call) (*directory.Group, error) {
	g, err := lookup(r.Context(), c.params[0], func(q directory.Query) ([]*directory.Group, int, error) {
		return s.Store.ReadGroups(r.Context(), c.company.ID, q)
	})
	if err == nil && g == nil {
		err = notFound("no group with the id or target name %q", c.params[0])
	}
	return g, err
}

func (s *server) group(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.findGroup(r, c)
	if err != nil {
		return err
	}
	out, err := s.groupsOut(r.Context(), c, []*directory.Group{g})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

type memberJSON struct {
	Position int   `json:"position"`
	Shift    ref   `json:"shift"`
	Group    ref   `json:"group"`
	Member   ref   `json:"member"`
	Owned    *bool `json:"externallyOwned,omitempty"`
}

type shiftJSON struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Description       string            `json:"description,omitempty"`
	Group             ref               `json:"group"`
	UseDefaultDevices bool              `json:"useDefaultDevices"`
	RoundRobin        bool              `json:"roundRobin"`
	Escalation        []int             `json:"escalation,omitempty"`
	Members           *list[memberJSON] `json:"members,omitempty"`
	ExternalKey       string            `json:"externalKey,omitempty"`
	ExternallyOwned   bool              `json:"externallyOwned"`
}

// shiftsOf returns the group's shifts, each with its members.
func (s *server) shiftsOf(ctx context.Context, c *call, g *directory.Group) ([]shiftJSON, error) {
	shifts, _, err := s.Store.ReadShifts(ctx, c.company.ID, directory.Query{Parent: g.ID})
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(shifts))
	for i, sh := range shifts {
		ids[i] = sh.ID
	}
	members, err := s.Store.ReadMembers(ctx, c.company.ID, ids)
	if err != nil {
		return nil, err
	}
	names, err := s.memberRefs(ctx, c, members)
	if err != nil {
		return nil, err
	}
	gref := ref{ID: g.ID.String(), TargetName: g.TargetName, RecipientType: "GROUP", Links: &links{Self: "/api/xm/1/groups/" + g.ID.String()}}
	byShift := map[uuid.UUID][]memberJSON{}
	out := make([]shiftJSON, len(shifts))
	for i, sh := range shifts {
		out[i] = shiftJSON{ID: sh.ID.String(), Name: sh.Name, Description: sh.Description, Group: gref,
			UseDefaultDevices: sh.UseDefaultDevices, RoundRobin: sh.RoundRobin, Escalation: sh.Escalation,
			ExternalKey: sh.ExternalKey, ExternallyOwned: sh.Owned}
	}
	for _, m := range members {
		owned := m.Owned
		mr := names[m.MemberID]
		if mr.ID == "" {
			mr = ref{ID: m.MemberID.String(), RecipientType: string(m.Type)}
		}
		for _, sh := range out {
			if sh.ID == m.ShiftID.String() {
				byShift[m.ShiftID] = append(byShift[m.ShiftID], memberJSON{Position: m.Sequence,
					Shift: ref{ID: sh.ID, Name: sh.Name}, Group: gref, Member: mr, Owned: &owned})
			}
		}
	}
	for i := range out {
		out[i].Members = embedded(byShift[shifts[i].ID])
	}
	return out, nil
}

// memberRefs names the members.
func (s *server) memberRefs(ctx context.Context, c *call, members []*directory.Member) (map[uuid.UUID]ref, error) {
	ids := map[directory.MemberType][]uuid.UUID{}
	for _, m := range members {
		ids[m.Type] = append(ids[m.Type], m.MemberID)
	}
	out := map[uuid.UUID]ref{}
	co := c.company.ID
	people, _, err := s.Store.ReadPeople(ctx, co, directory.Query{IDs: distinct(ids[directory.MemberPerson])})
	if err != nil {
		return nil, err
	}
	for _, p := range people {
		out[p.ID] = personRef(p)
	}
	groups, _, err := s.Store.ReadGroups(ctx, co, directory.Query{IDs: distinct(ids[directory.MemberGroup])})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		out[g.ID] = ref{ID: g.ID.String(), TargetName: g.TargetName, RecipientType: "GROUP", Links: &links{Self: "/api/xm/1/groups/" + g.ID.String()}}
	}
	shifts, _, err := s.Store.ReadShifts(ctx, co, directory.Query{IDs: distinct(ids[directory.MemberShift])})
	if err != nil {
		return nil, err
	}
	for _, sh := range shifts {
		out[sh.ID] = ref{ID: sh.ID.String(), Name: sh.Name, RecipientType: "TEAM"}
	}
	devices, _, err := s.Store.ReadDevices(ctx, co, directory.Query{IDs: distinct(ids[directory.MemberDevice])})
	if err != nil {
		return nil, err
	}
	dj, err := s.devicesOut(ctx, c, devices)
	if err != nil {
		return nil, err
	}
	for i, d := range devices {
		out[d.ID] = ref{ID: d.ID.String(), TargetName: dj[i].TargetName, RecipientType: "DEVICE", Links: &dj[i].Links}
	}
	return out, nil
}

func (s *server) groupShifts(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	g, err := s.findGroup(r, c)
	if err != nil {
		return err
	}
	shifts, err := s.shiftsOf(r.Context(), c, g)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, window(shifts, p), len(shifts)))
	return nil
}

func (s *server) groupMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	g, err := s.findGroup(r, c)
	if err != nil {
		return err
	}
	shifts, err := s.shiftsOf(r.Context(), c, g)
	if err != nil {
		return err
	}
	var all []memberJSON
	for _, sh := range shifts {
		all = append(all, sh.Members.Data...)
	}
	writeJSON(w, http.StatusOK, newList(r, p, window(all, p), len(all)))
	return nil
}

type siteJSON struct {
	ID              string       `json:"id"`
	Name            string       `json:"name"`
	Status          string       `json:"status,omitempty"`
	Timezone        string       `json:"timezone,omitempty"`
	Language        string       `json:"language,omitempty"`
	Country         string       `json:"country,omitempty"`
	Address1        string       `json:"address1,omitempty"`
	Address2        string       `json:"address2,omitempty"`
	City            string       `json:"city,omitempty"`
	State           string       `json:"state,omitempty"`
	PostalCode      string       `json:"postalCode,omitempty"`
	Latitude        *json.Number `json:"latitude,omitempty"`
	Longitude       *json.Number `json:"longitude,omitempty"`
	ExternalKey     string       `json:"externalKey,omitempty"`
	ExternallyOwned bool         `json:"externallyOwned"`
	Links           links        `json:"links"`
}

func number(s string) *json.Number {
	if _, err := strconv.ParseFloat(s, 64); err != nil || s == "" {
		return nil
	}
	n := json.Number(s)
	return &n
}

func sitesOut(sites []*directory.Site) []siteJSON {
	out := make([]siteJSON, len(sites))
	for i, x := range sites {
		out[i] = siteJSON{ID: x.ID.String(), Name: x.Name, Status: x.Status, Timezone: x.TimeZone, Language: x.Language,
			Country: x.Country, Address1: x.Address1, Address2: x.Address2, City: x.City, State: x.State,
			PostalCode: x.PostalCode, Latitude: number(x.Latitude), Longitude: number(x.Longitude),
			ExternalKey: x.ExternalKey, ExternallyOwned: x.Owned, Links: links{Self: "/api/xm/1/sites/" + x.ID.String()}}
	}
	return out
}

func (s *server) sites(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	sites, total, err := s.Store.ReadSites(r.Context(), c.company.ID, directory.Query{Offset: p.offset, Limit: p.limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, sitesOut(sites), total))
	return nil
}

func (s *server) site(w http.ResponseWriter, r *http.Request, c *call) error {
	x, err := lookup(r.Context(), c.params[0], func(q directory.Query) ([]*directory.Site, int, error) {
		return s.Store.ReadSites(r.Context(), c.company.ID, q)
	})
	if err != nil {
		return err
	}
	if x == nil {
		return notFound("no site with the id or name %q", c.params[0])
	}
	writeJSON(w, http.StatusOK, sitesOut([]*directory.Site{x})[0])
	return nil
}

func (s *server) roles(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	all := roleRefs(c.company.ID, c.company.Config.Roles)
	writeJSON(w, http.StatusOK, newList(r, p, window(all, p), len(all)))
	return nil
}
