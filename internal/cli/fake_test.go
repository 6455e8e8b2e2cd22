package cli_test

import (
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/epicsync/epic/internal/client/clienttest"
)

// startFake starts a fake of epicd's API (clienttest) for one script and
// tells the script where it is: $FAKE_URL, its certificate in
// $FAKE_CA (a PEM file) and the password of its user epic-uploader in
// $FAKE_PASSWORD_FILE. Scripts set EPIC_URL and friends themselves, so a
// script that sets nothing has no server.
func startFake(env *testscript.Env) error {
	s := clienttest.Start()
	env.Defer(s.Close)
	dir := filepath.Join(env.WorkDir, ".fake")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "password")
	if err := s.WriteCA(ca); err != nil {
		return err
	}
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		return err
	}
	env.Setenv("FAKE_URL", s.URL)
	env.Setenv("FAKE_CA", ca)
	env.Setenv("FAKE_PASSWORD_FILE", pw)
	env.Values[fakeKey{}] = s
	return nil
}

type fakeKey struct{}

// fakeCmd is the script command
//
//	fake SETTING VALUE...
//
// which changes the script's fake service (see clienttest.Server.Set):
// fake final COMPLETED_WITH_ERRORS, fake versions 1.0 1.1, fake
// minclient 99.0.0, fake fail503 2, fake polls 3, fake pagesize 2.
func fakeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fake SETTING VALUE...")
	}
	s := ts.Value(fakeKey{}).(*clienttest.Server)
	if err := s.Set(args[0], args[1:]...); err != nil {
		ts.Fatalf("%v", err)
	}
}
