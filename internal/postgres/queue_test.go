package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/directory"
)

// TestClaimAcrossStores: two stores on one database (two epicd instances)
// exclude each other's claims of a company, not of different companies.
func TestClaimAcrossStores(t *testing.T) {
	d := freshDSN(t)
	t.Parallel()
	a, err := Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x := &directory.Company{Name: "X", EpicEnabled: true}
	y := &directory.Company{Name: "Y", EpicEnabled: true}
	for _, c := range []*directory.Company{x, y} {
		if err := a.CreateCompany(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := a.Claim(t.Context(), x.ID)
	if err != nil || ca == nil {
		t.Fatalf("Claim X on a = %v, %v", ca, err)
	}
	if cb, err := b.Claim(t.Context(), x.ID); err != nil || cb != nil {
		t.Fatalf("Claim X on b while a holds it = %v, %v; want nil", cb, err)
	}
	cy, err := b.Claim(t.Context(), y.ID)
	if err != nil || cy == nil {
		t.Fatalf("Claim Y on b = %v, %v", cy, err)
	}
	cy.Release()
	// Update of X waits for no claim: another key space.
	done := make(chan error, 1)
	go func() { done <- b.Update(t.Context(), x.ID, func(directory.Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update while a claim is held: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Update waited on the queue lock")
	}
	ca.Release()
	cb, err := b.Claim(t.Context(), x.ID)
	if err != nil || cb == nil {
		t.Fatalf("Claim X on b after a released it = %v, %v", cb, err)
	}
	cb.Release()
}

// TestClaimLost: when the session holding a claim ends (the server
// terminates it, the network goes), Lost closes, Take fails, and another
// run can claim the company.
func TestClaimLost(t *testing.T) {
	s := open(t)
	old := claimPing
	claimPing = 50 * time.Millisecond
	t.Cleanup(func() { claimPing = old })
	co := &directory.Company{Name: "X", EpicEnabled: true}
	if err := s.CreateCompany(t.Context(), co); err != nil {
		t.Fatal(err)
	}
	dc, err := s.Claim(t.Context(), co.ID)
	if err != nil || dc == nil {
		t.Fatalf("Claim = %v, %v", dc, err)
	}
	c := dc.(*claim)
	pid := c.conn.Conn().PgConn().PID()
	if _, err := s.pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("Lost did not close after the session ended")
	}
	if _, err := c.Take(context.Background(), time.Now()); err == nil {
		t.Errorf("Take on a lost claim: no error")
	}
	other, err := s.Claim(t.Context(), co.ID)
	if err != nil || other == nil {
		t.Fatalf("Claim after the holder's session ended = %v, %v; want it", other, err)
	}
	other.Release()
	c.Release() // no hang, no panic
}
