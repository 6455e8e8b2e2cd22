// Package storetest is the conformance suite that every directory.Store
// implementation runs from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) directory.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "epic.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every sub-test opens its own fresh, empty, migrated store. The suite never
// looks inside a store: it only calls the directory interfaces, so it holds
// no SQL and assumes nothing of one database.
//
// Besides the doc comments of directory.Store, View and Tx, the suite fixes
// these points of the contract:
//
//   - Lists of a directory object (Person.Roles and Supervisors,
//     Group.Observers and Supervisors, Shift.Escalation) keep their order
//     and come back nil when empty: a View never returns an empty non-nil
//     list. Lists inside a Config or a Job (JSON-shaped values) may come
//     back nil or empty.
//   - Times (Company.Created, Job times, Detail times) are kept to the
//     microsecond at least; a zero Job.Finished comes back zero.
//     CreateCompany sets a nil ID to a new one and Created to the time of
//     creation.
//   - Names are unique case-insensitively (ASCII letters at least): company
//     names; per company, site names and person and group target names;
//     device names per owner, custom field keys per person, shift names per
//     group. Putting an object whose ID or unique name is taken fails with
//     an error that wraps directory.ErrExists.
//   - Putting with insert=false an ID that the company does not have fails
//     with an error that wraps directory.ErrNotFound (another company's
//     object is not the company's); so does SetMembers of a shift the
//     company does not have. Deleting IDs the company does not have is not
//     an error and changes nothing.
//   - Update and View of a company that does not exist fail with an error
//     that wraps directory.ErrNotFound, without calling fn.
//   - Update returns fn's error as it is (errors.Is finds it). A panic in fn
//     rolls the transaction back and Update panics again with the same
//     value; the store stays usable.
//   - Supervisors (of people and of groups) may name people of the same
//     Put batch, wherever they stand in it.
//   - A Put, Delete or SetMembers call that fails may have written part of
//     its batch: fn returns the error, and Update then writes nothing.
//   - Inside Update, the View methods of Tx see fn's own writes.
//   - A View sees the directory as it was when it first read: an Update
//     committed meanwhile (which must not wait for the View to end) is
//     invisible until the next View.
//   - Removing a group removes its shifts as DeleteShifts would, so
//     memberships of those shifts in other shifts go too: no membership
//     ever names a removed object.
//   - Members keep their Sequence and Owned; SetMembers sets each Member's
//     ShiftID from its map key.
//   - SaveJob inside Update is committed or rolled back with fn's writes.
//     Job of another company's job is ErrNotFound. Jobs orders by Started,
//     newest first, and leaves Details and Rows nil.
//   - Batches are not limited in size: one Put or Delete call of 20,000
//     objects works (stores with statement parameter limits must split
//     them).
package storetest
