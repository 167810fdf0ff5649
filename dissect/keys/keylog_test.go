package keys

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	cr1 = "0000000000000000000000000000000000000000000000000000000000000001"
	cr2 = "0000000000000000000000000000000000000000000000000000000000000002"
	s32 = "1111111111111111111111111111111111111111111111111111111111111111"
	s48 = "222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222"
)

func randomOf(s string) [32]byte {
	var cr [32]byte
	b, _ := fmtHex(s)
	copy(cr[:], b)
	return cr
}

func fmtHex(s string) ([]byte, error) {
	var b []byte
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

func TestParseLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		field  string // "" when the line is good or skipped
		want   error
		label  Label
		secret string
	}{
		{"client random", "CLIENT_RANDOM " + cr1 + " " + s48, "", nil, LabelClientRandom, s48},
		{"handshake sha256", "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32, "", nil, LabelClientHandshakeTrafficSecret, s32},
		{"handshake sha384", "SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s48, "", nil, LabelServerHandshakeTrafficSecret, s48},
		{"traffic", "CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32, "", nil, LabelClientTrafficSecret0, s32},
		{"server traffic", "SERVER_TRAFFIC_SECRET_0 " + cr1 + " " + s32, "", nil, LabelServerTrafficSecret0, s32},
		{"early", "CLIENT_EARLY_TRAFFIC_SECRET " + cr1 + " " + s32, "", nil, LabelClientEarlyTrafficSecret, s32},
		{"exporter", "EXPORTER_SECRET " + cr1 + " " + s32, "", nil, LabelExporterSecret, s32},
		{"upper case hex, CRLF, tabs", "CLIENT_RANDOM\t" + strings.ToUpper(cr1) + "  " + s48 + " \r", "", nil, LabelClientRandom, s48},
		{"comment", "# CLIENT_RANDOM " + cr1 + " " + s48, "", nil, 0, ""},
		{"blank", "   ", "", nil, 0, ""},
		{"ignored RSA", "RSA 0102030405060708 " + s48, "", nil, 0, ""},
		{"unknown label", "CLIENT_TRAFFIC_SECRET_9 " + cr1 + " " + s32, "label", ErrUnknownLabel, 0, ""},
		{"two fields", "CLIENT_RANDOM " + cr1, "line", ErrMalformedLine, 0, ""},
		{"four fields", "CLIENT_RANDOM " + cr1 + " " + s48 + " x", "line", ErrMalformedLine, 0, ""},
		{"short random", "CLIENT_RANDOM " + cr1[2:] + " " + s48, "client_random", ErrMalformedLine, 0, ""},
		{"bad hex random", "CLIENT_RANDOM " + "zz" + cr1[2:] + " " + s48, "client_random", ErrMalformedLine, 0, ""},
		{"master of 32", "CLIENT_RANDOM " + cr1 + " " + s32, "secret", ErrMalformedLine, 0, ""},
		{"odd secret", "CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32 + "1", "secret", ErrMalformedLine, 0, ""},
		{"secret of 40", "CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s48[:80], "secret", ErrMalformedLine, 0, ""},
		{"bad hex secret", "CLIENT_TRAFFIC_SECRET_0 " + cr1 + " g" + s32[1:], "secret", ErrMalformedLine, 0, ""},
		{"too long", "CLIENT_RANDOM " + cr1 + " " + strings.Repeat("a", 2000), "line", ErrLineTooLong, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kl, errs := Parse(strings.NewReader("# header\n"+tc.line+"\nCLIENT_RANDOM "+cr2+" "+s48), "f.log")
			if tc.want == nil {
				if len(errs) != 0 {
					t.Fatal(errs)
				}
			} else {
				var le *LineError
				if len(errs) != 1 || !errors.As(errs[0], &le) || !errors.Is(errs[0], tc.want) || le.Line != 2 || le.Field != tc.field || le.Name != "f.log" {
					t.Fatalf("errors %v, want line 2 %s %v", errs, tc.field, tc.want)
				}
				if !strings.Contains(errs[0].Error(), "f.log:2: "+tc.field) {
					t.Errorf("message %q", errs[0])
				}
			}
			// The line after is never lost.
			if s, ok := kl.Lookup(randomOf(cr2)); !ok || len(s.MasterSecret) != 48 {
				t.Fatal("the next line was lost")
			}
			s, ok := kl.Lookup(randomOf(cr1))
			if tc.label == 0 {
				if ok {
					t.Fatalf("line kept: %+v", s)
				}
				return
			}
			want, _ := fmtHex(tc.secret)
			if !ok || !bytes.Equal(s.Get(tc.label), want) {
				t.Fatalf("secret %x, want %x", s.Get(tc.label), want)
			}
		})
	}
}

func TestMergeAndConflicts(t *testing.T) {
	a, errs := Parse(strings.NewReader("CLIENT_RANDOM "+cr1+" "+s48+"\nCLIENT_RANDOM "+cr1+" "+s48+"\n"), "a")
	if len(errs) != 0 || a.Stats().Duplicate != 1 || a.Stats().Secrets != 1 {
		t.Fatalf("%v %+v", errs, a.Stats())
	}
	b, _ := Parse(strings.NewReader("CLIENT_TRAFFIC_SECRET_0 "+cr1+" "+s32+"\nCLIENT_RANDOM "+cr1+" "+strings.Repeat("3", 96)+"\nCLIENT_RANDOM "+cr2+" "+s48), "b")
	errs = a.Merge(b)
	if len(errs) != 1 || !errors.Is(errs[0], ErrConflict) {
		t.Fatalf("merge errors %v", errs)
	}
	s, _ := a.Lookup(randomOf(cr1))
	if want, _ := fmtHex(s48); !bytes.Equal(s.MasterSecret, want) || s.ClientTraffic0 == nil {
		t.Fatalf("merged %+v", s)
	}
	if a.Len() != 2 {
		t.Fatalf("Len %d", a.Len())
	}
	// A conflict inside one file is a line error.
	_, errs = Parse(strings.NewReader("CLIENT_RANDOM "+cr1+" "+s48+"\nCLIENT_RANDOM "+cr1+" "+strings.Repeat("3", 96)), "c")
	var le *LineError
	if len(errs) != 1 || !errors.Is(errs[0], ErrConflict) || !errors.As(errs[0], &le) || le.Line != 2 {
		t.Fatalf("errors %v", errs)
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "CLIENT_RANDOM %064x %s\n", i, s48)
		fmt.Fprintf(&b, "junk line %d\n", i)
	}
	k := NewKeyLog(Limits{MaxSecrets: 10, MaxErrors: 5})
	errs := k.Parse(strings.NewReader(b.String()), "big")
	st := k.Stats()
	if k.Len() != 10 || st.Secrets != 10 || st.Dropped != 290 || st.Malformed != 300 || st.Lines != 600 {
		t.Fatalf("%d entries, %+v", k.Len(), st)
	}
	// 5 errors, then ErrTooManyErrors; ErrTooManyEntries came after the cap.
	if len(errs) != 6 || !errors.Is(errs[5], ErrTooManyErrors) {
		t.Fatalf("errors %v", errs)
	}
	// Lines far over the limit, with or without a newline, cost no memory
	// beyond the limit and do not hide the next line.
	long := strings.Repeat("x", 1<<20)
	k = NewKeyLog(Limits{})
	errs = k.Parse(strings.NewReader(long+"\nCLIENT_RANDOM "+cr1+" "+s48+"\n"+long), "long")
	if len(errs) != 2 || !errors.Is(errs[0], ErrLineTooLong) || !errors.Is(errs[1], ErrLineTooLong) || k.Len() != 1 {
		t.Fatalf("errors %v, %d entries", errs, k.Len())
	}
	var le *LineError
	if !errors.As(errs[1], &le) || le.Line != 3 {
		t.Fatalf("line of the second long line: %v", errs[1])
	}
}

func TestReadErrorAndSmallReads(t *testing.T) {
	text := "CLIENT_RANDOM " + cr1 + " " + s48 + "\nCLIENT_RANDOM " + cr2 + " " + s48 + "\n"
	k, errs := Parse(iotest.OneByteReader(strings.NewReader(text)), "slow")
	if len(errs) != 0 || k.Len() != 2 {
		t.Fatalf("one byte reads: %v, %d", errs, k.Len())
	}
	_, errs = Parse(iotest.TimeoutReader(strings.NewReader(text)), "t") // second read fails
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], iotest.ErrTimeout) {
		t.Fatalf("read error not reported: %v", errs)
	}
}

func TestDSB(t *testing.T) {
	k := NewKeyLog(Limits{})
	data := []byte("CLIENT_RANDOM " + cr1 + " " + s48 + "\n\x00\x00\x00")
	if errs := k.AddDSB(SecretsTypeTLSKeyLog, data, "dsb"); len(errs) != 0 || k.Len() != 1 {
		t.Fatalf("%v", errs)
	}
	if errs := k.AddDSB(0x57474b4c, data, "dsb"); len(errs) != 1 || !errors.Is(errs[0], ErrUnsupportedSecretsType) {
		t.Fatalf("WireGuard secrets: %v", errs)
	}
}

func TestLabelString(t *testing.T) {
	for l := LabelClientRandom; l <= LabelExporterSecret; l++ {
		if got, ok := parseLabel([]byte(l.String())); !ok || got != l {
			t.Errorf("%v does not parse back", l)
		}
	}
	if Label(99).String() != "Label(99)" {
		t.Error(Label(99).String())
	}
}

// FuzzKeyLog: no panic, bounded output, and what was kept round trips:
// written back out and parsed again it gives the same secrets.
func FuzzKeyLog(f *testing.F) {
	f.Add([]byte("# SSL/TLS secrets log file\nCLIENT_RANDOM " + cr1 + " " + s48 + "\n"))
	f.Add([]byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32 + "\r\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32 + "\r\nCLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32 + "\nSERVER_TRAFFIC_SECRET_0 " + cr1 + " " + s32 + "\nEXPORTER_SECRET " + cr1 + " " + s32))
	f.Add([]byte("RSA 0102 03\n\n\nCLIENT_RANDOM x y\nCLIENT_RANDOM " + cr2 + " " + s48 + " z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxSecrets: 50, MaxLineLength: 300, MaxErrors: 10}
		k := NewKeyLog(lim)
		errs := k.Parse(bytes.NewReader(data), "fuzz")
		st := k.Stats()
		if len(errs) > lim.MaxErrors+2 || st.Secrets > lim.MaxSecrets || k.Len() > st.Secrets {
			t.Fatalf("%d errors, %+v, %d entries", len(errs), st, k.Len())
		}
		var out bytes.Buffer
		n := 0
		for cr, s := range k.m {
			for l := LabelClientRandom; l <= LabelExporterSecret; l++ {
				v := s.Get(l)
				if v == nil {
					continue
				}
				if len(v) != 32 && len(v) != 48 || (l == LabelClientRandom && len(v) != 48) {
					t.Fatalf("%s of %d bytes", l, len(v))
				}
				fmt.Fprintf(&out, "%s %x %x\n", l, cr[:], v)
				n++
			}
		}
		if n != st.Secrets {
			t.Fatalf("%d secrets kept, stats say %d", n, st.Secrets)
		}
		k2, errs2 := Parse(&out, "again")
		if len(errs2) != 0 || k2.Stats().Secrets != n {
			t.Fatalf("round trip: %v", errs2)
		}
		for cr, s := range k.m {
			s2, ok := k2.Lookup(cr)
			if !ok {
				t.Fatal("lost in round trip")
			}
			for l := LabelClientRandom; l <= LabelExporterSecret; l++ {
				if !bytes.Equal(s.Get(l), s2.Get(l)) {
					t.Fatalf("%s changed in round trip", l)
				}
			}
		}
	})
}
