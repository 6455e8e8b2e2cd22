package ldap

import (
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/epicsync/epic/internal/mapping"
)

// group is a group entry as read, before its members are resolved.
type group struct {
	dn, key, name, desc string
	members             []string // member DNs as written
}

// exportGroups reads the groups, resolves their members against the
// exported people and groups, and adds them to b.
func exportGroups(conn *goldap.Conn, c Config, m *mapping.Mapper, b *mapping.Builder, people map[string]string, rep *Report, tick func(int)) error {
	gc := c.Groups
	opt := mapping.Options{DefaultCountry: m.Config().DefaultCountry}
	var key, name, desc *mapping.Template
	for _, t := range []struct {
		dst **mapping.Template
		key string
		src string
	}{{&key, "key", gc.Key}, {&name, "name", gc.Name}, {&desc, "description", gc.Description}} {
		tp, err := mapping.Compile(t.src, opt)
		if err != nil {
			return fmt.Errorf("[ldap.groups] %s: %w", t.key, err)
		}
		*t.dst = tp
	}
	attrs := append([]string{}, gc.MemberAttributes...)
	for _, t := range []*mapping.Template{key, name, desc} {
		for _, f := range t.Fields() {
			if !strings.EqualFold(f, "dn") {
				attrs = append(attrs, f)
			}
		}
	}
	var groups []*group
	byDN := map[string]*group{}
	gcfg := c
	gcfg.Scope = "sub"
	err := search(conn, gcfg, gc.BaseDN, gc.Filter, attrs, rep, tick, func(e *goldap.Entry) error {
		if err := checkRanged(e); err != nil {
			return err
		}
		r := entry{e}
		g := &group{dn: e.DN}
		var err error
		if g.key, err = key.Eval(r); err != nil || g.key == "" {
			return fmt.Errorf("group %s: [ldap.groups] key %s gives no value (%v)", e.DN, key, err)
		}
		if g.name, err = name.Eval(r); err != nil || g.name == "" {
			return fmt.Errorf("group %s: [ldap.groups] name %s gives no value (%v)", e.DN, name, err)
		}
		if g.desc, err = desc.Eval(r); err != nil {
			return fmt.Errorf("group %s: [ldap.groups] description: %v", e.DN, err)
		}
		if len([]rune(g.desc)) > 200 {
			g.desc = string([]rune(g.desc)[:200])
		}
		for _, a := range gc.MemberAttributes {
			g.members = append(g.members, e.GetEqualFoldAttributeValues(a)...)
		}
		groups = append(groups, g)
		byDN[normDN(e.DN)] = g
		return nil
	})
	if err != nil {
		return err
	}
	outside := func(g *group, dn string) {
		rep.Outside = append(rep.Outside, fmt.Sprintf("group %s: member %s", g.name, dn))
	}
	for _, g := range groups {
		var members []mapping.Member
		seen := map[string]bool{}
		add := func(t, k string) {
			if !seen[t+"\x00"+k] {
				seen[t+"\x00"+k] = true
				members = append(members, mapping.Member{Type: t, Key: k})
			}
		}
		switch gc.Nested {
		case "keep":
			for _, dn := range g.members {
				n := normDN(dn)
				if k, ok := people[n]; ok {
					add("PERSON", k)
				} else if sub, ok := byDN[n]; ok && sub != g {
					add("GROUP", sub.key)
				} else if !ok {
					outside(g, dn)
				}
			}
		default: // flatten: depth first, each group once
			visited := map[*group]bool{}
			var walk func(cur *group)
			walk = func(cur *group) {
				visited[cur] = true
				for _, dn := range cur.members {
					n := normDN(dn)
					if k, ok := people[n]; ok {
						add("PERSON", k)
					} else if sub, ok := byDN[n]; ok {
						if !visited[sub] {
							walk(sub)
						}
					} else if cur == g {
						// Reported once, under the group that names it.
						outside(g, dn)
					}
				}
			}
			walk(g)
		}
		if err := b.AddGroup(mapping.Group{Key: g.key, Name: g.name, Description: g.desc,
			TimeZone: gc.TimeZone, Site: gc.Site, Shift: gc.Shift, Members: members}); err != nil {
			return err
		}
		rep.Groups++
	}
	if len(rep.Outside) > 0 && gc.OutsideMembers == "fail" {
		return fmt.Errorf("%w (%d, outside_members = \"fail\"): %s", ErrOutsideMembers, len(rep.Outside), strings.Join(first(rep.Outside, 5), "; "))
	}
	return nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string{}, s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
