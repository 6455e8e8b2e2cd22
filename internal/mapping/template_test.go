package mapping

import (
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	rec := MapRecord{
		"givenName": "Zoë", "sn": "O'Brien-Smith", "uid": "zobrien", "mail": "Zoe.OBrien@Example.COM",
		"Full Name": "  Jean  Claude Van Damme ", "tel": "(415) 555-0100", "uk": "07911 123456",
		"intl": "+49 30 1234567", "uac": "514", "uacOn": "512", "neg": "-2147483646", "status": "Terminated",
		"blank": "  ",
	}
	for _, c := range []struct{ src, want string }{
		{"plain text", "plain text"},
		{"{givenName} {sn}", "Zoë O'Brien-Smith"},
		{"{missing|uid}", "zobrien"},
		{"{blank|missing|'Headquarters'}", "Headquarters"},
		{"{mail:lower}", "zoe.obrien@example.com"},
		{"{mail:split('@',0):lower}", "zoe.obrien"},
		{"{mail:split('@', -1)}", "Example.COM"},
		{"{Full Name:word(0)}", "Jean"},
		{"{Full Name:word(-1)}", "Damme"},
		{"{Full Name:word(9)|'?'}", "?"},
		{"{sn:upper}", "O'BRIEN-SMITH"},
		{"{mail:title}", "Zoe.obrien@example.com"},
		{"{'jean claude':title}", "Jean Claude"},
		{"{tel:phone}", "+14155550100"},
		{"{tel:digits}", "4155550100"},
		{"{uk:phone('GB')}", "+447911123456"},
		{"{intl:phone('GB')}", "+49301234567"},
		{"{uac:uac}", "INACTIVE"},
		{"{uacOn:uac}", "ACTIVE"},
		{"{neg:uac}", "INACTIVE"},
		{"{missing:uac|'ACTIVE'}", "ACTIVE"},
		{"{status:map('Active=ACTIVE', 'terminated=INACTIVE')}", "INACTIVE"},
		{"{uid:map('x=y','*=other')}", "other"},
		{"{sn:left(3)}", "O'B"},
		{"{sn:replace('-',' ')}", "O'Brien Smith"},
		{"{{literal}} {uid}", "{literal} zobrien"},
		{"{ 'it''s' }", "it's"},
	} {
		tp, err := Compile(c.src, Options{DefaultCountry: "US"})
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		got, err := tp.Eval(rec)
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.src, got, err, c.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"{uid", "never closed"},
		{"uid}", "without its {"},
		{"{}", "field name"},
		{"{uid:nope}", `unknown filter "nope"`},
		{"{uid:word}", "takes 1 argument"},
		{"{uid:word(x)}", "not a whole number"},
		{"{uid:phone('XX')}", "not a two-letter country code"},
		{"{uid:map('novalue')}", "not from=to"},
		{"{'open}", "never closed"},
		{"{uid:split('@',0}", "expected , or )"},
	} {
		_, err := Compile(c.src, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %v, want an error saying %q", c.src, err, c.want)
		}
	}
	rec := MapRecord{"tel": "call me", "local": "555 0100", "uac": "yes", "s": "odd"}
	for _, c := range []struct{ src, want string }{
		{"{tel:phone('US')}", "not a phone number"},
		{"{local:phone}", "no default country"},
		{"{uac:uac}", "not a userAccountControl"},
		{"{s:map('a=b')}", "not listed in the map"},
	} {
		tp, err := Compile(c.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.Eval(rec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Eval(%q) = %v, want an error saying %q", c.src, err, c.want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"{a|b:lower}", "{x:map('a=b','*=c')}", "{{}}", "{'a''b'}", "{a:split(',',-1)}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Compile(src, Options{DefaultCountry: "US"})
		if err != nil {
			return
		}
		rec := MapRecord{}
		for _, fl := range tp.Fields() {
			rec[fl] = src
		}
		_, _ = tp.Eval(rec)
	})
}
