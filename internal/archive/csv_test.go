package archive

import (
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readAll renders every record as "line:field|field" plus its issue.
func readAll(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	for r.Next() {
		s := fmt.Sprintf("%d:%s", r.Line(), strings.Join(byteStrings(r.Fields()), "|"))
		if is := r.Issue(); is != nil {
			if is.Kind == IssueUnterminated {
				s = fmt.Sprintf("%d:unterminated@%d:%d field %d", r.Line(), is.Line, is.Column, is.Field)
			} else {
				s += fmt.Sprintf(" bare@%d:%d field %d", is.Line, is.Column, is.Field)
			}
		}
		out = append(out, s)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	return out
}

func byteStrings(fields [][]byte) []string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = string(f)
	}
	return s
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"lf", "a,b\nc,d\n", []string{"1:a|b", "2:c|d"}},
		{"crlf", "a,b\r\nc,d\r\n", []string{"1:a|b", "2:c|d"}},
		{"cr only", "a,b\rc,d\re,f", []string{"1:a|b", "2:c|d", "3:e|f"}},
		{"no final newline", "a,b\nc,d", []string{"1:a|b", "2:c|d"}},
		{"empty fields", ",,\n", []string{"1:||"}},
		{"blank lines skipped", "a\n\n\r\n\rb\n", []string{"1:a", "5:b"}},
		{"quoted comma", `"a,b",c` + "\n", []string{"1:a,b|c"}},
		{"doubled quote", `"say ""hi""",x` + "\n", []string{`1:say "hi"|x`}},
		{"quoted newline", "\"l1\nl2\",x\ny,z\n", []string{"1:l1\nl2|x", "3:y|z"}},
		{"quoted crlf", "\"l1\r\nl2\",x\r\ny,z\r\n", []string{"1:l1\r\nl2|x", "3:y|z"}},
		{"quoted at end of stream", `a,"b"`, []string{"1:a|b"}},
		{"empty quoted", `"",x` + "\n", []string{"1:|x"}},
		{"bare quote in value", "ab\"c,d\ne,f\n", []string{"1:ab\"c|d bare@1:3 field 0", "2:e|f"}},
		{"text after closing quote", "\"ab\"c,d\ne,f\n", []string{"1:abc|d bare@1:5 field 0", "2:e|f"}},
		{"unterminated at eof recovers", "h1,h2\n\"open,x\ny,z\nw,v\n",
			[]string{"1:h1|h2", "2:unterminated@2:1 field 0", "3:y|z", "4:w|v"}},
		{"unterminated closed by a later quote recovers", "a,\"b\nc,d\ne,\"f\",g\n",
			[]string{"1:unterminated@1:3 field 1", "2:c|d", "3:e|f|g"}},
		{"unterminated with crlf recovers", "a,\"b\r\nc,d\r\n",
			[]string{"1:unterminated@1:3 field 1", "2:c|d"}},
		{"bom stripped", "\xEF\xBB\xBFa,b\n", []string{"1:a|b"}},
		{"utf16 yields nothing", "\xFF\xFEa\x00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewReader(strings.NewReader(tt.in)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			// The same with one byte per read, to cross every buffer boundary.
			got = readAll(t, NewReader(iotest.OneByteReader(strings.NewReader(tt.in))))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("one byte at a time (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderBOM(t *testing.T) {
	r := NewReader(strings.NewReader("\xEF\xBB\xBFa\n"))
	r.Next()
	if !r.BOM() || r.UTF16() {
		t.Errorf("BOM() = %v, UTF16() = %v; want true, false", r.BOM(), r.UTF16())
	}
	r = NewReader(strings.NewReader("\xFE\xFF\x00a"))
	if r.Next() || !r.UTF16() {
		t.Errorf("UTF-16 stream: Next returned a record or UTF16() is false")
	}
}

func TestReaderRunawayQuoteIsBounded(t *testing.T) {
	// An unclosed quote followed by far more than the record limit: the
	// reader gives up at the limit and reads on from the next line.
	var b strings.Builder
	b.WriteString("k,\"open\n")
	for i := 0; b.Len() < 2*maxRecordBytes; i++ {
		fmt.Fprintf(&b, "row%d,v\n", i)
	}
	r := NewReader(strings.NewReader(b.String()))
	got := readAll(t, r)
	if got[0] != "1:unterminated@1:3 field 1" || got[1] != "2:row0|v" {
		t.Errorf("first records = %q", got[:2])
	}
	if want := strings.Count(b.String(), "\n"); len(got) != want {
		t.Errorf("got %d records, want %d (no row swallowed)", len(got), want)
	}
}
