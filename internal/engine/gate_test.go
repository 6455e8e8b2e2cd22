package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
)

// people is an archive of n people U0..U(n-1) at one site.
func people(n int) arc {
	a := arc{rows: map[string][]string{archive.FileSites: {"EXTERNAL_KEY=S1"}}}
	for i := range n {
		a.rows[archive.FileUsers] = append(a.rows[archive.FileUsers], fmt.Sprintf("EXTERNAL_KEY=U%d;USER_ID=u%d", i, i))
	}
	return a
}

// gated gives e a company of its own with the default safety limits.
func gated(t *testing.T, e *env) {
	t.Helper()
	co := &directory.Company{Name: "Gated", EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := e.store.CreateCompany(e.ctx, co); err != nil {
		t.Fatal(err)
	}
	e.company = co
}

func gateMessages(j *directory.Job) []string {
	var out []string
	for _, d := range j.Details {
		if d.Event == directory.EventSafetyLimit {
			out = append(out, d.Message)
		}
	}
	return out
}

func TestSafetyGateHoldsMirrorDroppingHalf(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		gated(t, e)
		if j := e.apply(people(100)); j.Status != directory.JobCompleted {
			t.Fatalf("status %s, details %v", j.Status, details(j))
		}
		half := people(50)
		half.mirror = true
		j := e.apply(half)
		if j.Status != directory.JobHeld {
			t.Fatalf("status %s, want HELD; details %v", j.Status, details(j))
		}
		if n := len(e.dir().people); n != 100 {
			t.Errorf("people after a held job: %d, want 100 (nothing changed)", n)
		}
		msgs := gateMessages(j)
		if len(msgs) != 1 || !strings.Contains(msgs[0], "would remove 50 of 100 people (50 %)") {
			t.Errorf("gate details %q, want one naming 50 of 100 people", msgs)
		}
		if s := summary(j, "DS_USERS"); s.RemovedByMirror != 50 {
			t.Errorf("report of the held job: removed by mirror %d, want 50 (what it would remove)", s.RemovedByMirror)
		}
		stored, err := e.store.Job(e.ctx, e.company.ID, j.ID)
		if err != nil || stored.Status != directory.JobHeld {
			t.Fatalf("stored job %v, %v; want HELD", stored, err)
		}
		// Approved, the same archive applies as it is.
		j2, err := e.eng.Apply(e.ctx, e.company, half.zip(t), engine.Job{ID: j.ID, By: "test", Approved: true})
		if err != nil || j2.Status != directory.JobCompleted {
			t.Fatalf("approved: %v, %v", j2, err)
		}
		if n := len(e.dir().people); n != 50 {
			t.Errorf("people after the approved job: %d, want 50", n)
		}
	})
}

func TestSafetyGateFewPeople(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		gated(t, e)
		e.apply(people(20))
		// Removing 15 of 20 stays under the minimum of 25 objects, but a
		// mirror archive of 5 people is less than half of 20.
		few := people(5)
		few.mirror = true
		j := e.apply(few)
		if j.Status != directory.JobHeld {
			t.Fatalf("status %s, want HELD", j.Status)
		}
		if msgs := gateMessages(j); len(msgs) != 1 || !strings.Contains(msgs[0], "has 5 people to keep") {
			t.Errorf("gate details %q", msgs)
		}
		// Not mirror: the archive changes only what it names.
		if j := e.apply(people(5)); j.Status != directory.JobCompleted {
			t.Errorf("delta archive: status %s, want COMPLETED", j.Status)
		}
	})
}

func TestSafetyGateRemovalRows(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		gated(t, e)
		e.apply(people(100))
		rm := arc{rows: map[string][]string{}}
		for i := range 30 {
			rm.rows[archive.FileUsers] = append(rm.rows[archive.FileUsers], fmt.Sprintf("EXTERNAL_KEY=U%d;USER_ID=u%d;ACTION=R", i, i))
		}
		if j := e.apply(rm); j.Status != directory.JobHeld {
			t.Fatalf("removing 30 of 100: status %s, want HELD", j.Status)
		}
		// 25 is not more than 25.
		rm.rows[archive.FileUsers] = rm.rows[archive.FileUsers][:25]
		if j := e.apply(rm); j.Status != directory.JobCompleted {
			t.Fatalf("removing 25 of 100: status %s, want COMPLETED; %v", j.Status, gateMessages(j))
		}
	})
}

func TestSafetyGateOff(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		cfg := directory.DefaultConfig()
		cfg.Limits.Enabled = false
		co := &directory.Company{Name: "NoLimits", EpicEnabled: true, Config: cfg}
		if err := e.store.CreateCompany(e.ctx, co); err != nil {
			t.Fatal(err)
		}
		e.applyTo(co, people(100))
		half := people(50)
		half.mirror = true
		if j := e.applyTo(co, half); j.Status != directory.JobCompleted {
			t.Fatalf("status %s, want COMPLETED with limits off", j.Status)
		}
		if n := len(e.dirOf(co).people); n != 50 {
			t.Errorf("people: %d, want 50", n)
		}
	})
}
