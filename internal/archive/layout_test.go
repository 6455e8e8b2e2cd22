package archive

import "testing"

// The table must be coherent: references name existing single-column keys
// and compare values the way the target column does.
func TestLayoutReferences(t *testing.T) {
	for _, l := range layouts {
		for _, c := range l.Columns {
			for _, r := range []*Ref{c.Ref, c.NotIn} {
				if r == nil {
					continue
				}
				target := LayoutOf(r.File)
				if target == nil || target.Column(r.Column) == nil {
					t.Errorf("%s %s refers to missing %s %s", l.Name, c.Name, r.File, r.Column)
					continue
				}
				if target.Column(r.Column).Fold != c.Fold {
					t.Errorf("%s %s folds case = %v, but its target %s %s = %v", l.Name, c.Name, c.Fold, r.File, r.Column, !c.Fold)
				}
				keyed := false
				for _, u := range target.Unique {
					keyed = keyed || (len(u.Columns) == 1 && u.Columns[0] == r.Column && u.Scope == "")
				}
				if !keyed {
					t.Errorf("%s %s refers to %s %s, which is not a unique column", l.Name, c.Name, r.File, r.Column)
				}
			}
		}
		for _, u := range l.Unique {
			for _, name := range u.Columns {
				if l.Column(name) == nil {
					t.Errorf("%s: unique constraint names missing column %s", l.Name, name)
				}
			}
		}
	}
}
