package network

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"
)

// memPort records the frames the switch sends out of it.
type memPort struct{ got []string }

func (p *memPort) writeFrame(b []byte) error { p.got = append(p.got, string(b[14:])); return nil }

func frame(dst, src byte, payload string) []byte {
	f := []byte{2, 0, 0, 0, 0, dst, 2, 0, 0, 0, 0, src, 0x08, 0x00}
	if dst == 0xff {
		copy(f[:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	return append(f, payload...)
}

func arpRequestFor(src byte, target [4]byte) []byte {
	f := frame(0xff, src, "")
	f[12], f[13] = 0x08, 0x06
	body := make([]byte, 28)
	body[6], body[7] = 0, 1 // request
	copy(body[24:28], target[:])
	return append(f, body...)
}

func TestFrameSwitch(t *testing.T) {
	gwIP := netip.MustParseAddr("10.89.0.1")
	s := newFrameSwitch(gwIP)
	gw, a, b, c := &memPort{}, &memPort{}, &memPort{}, &memPort{}
	s.add(gw, true)
	s.add(a, false)
	s.add(b, false)
	s.add(c, false)
	s.forward(a, frame(0x02, 0x0a, "to unknown"))            // flooded: a is learnt
	s.forward(b, frame(0x0a, 0x0b, "b to a"))                // a is known: a only
	s.forward(a, frame(0x0b, 0x0a, "a to b"))                // b is known: b only
	s.forward(c, frame(0xff, 0x0c, "broadcast"))             // flooded
	s.forward(a, arpRequestFor(0x0a, [4]byte{10, 89, 0, 3})) // not the gateway's
	s.forward(a, arpRequestFor(0x0a, gwIP.As4()))            // the gateway's
	s.forward(a, []byte{1, 2, 3})                            // runt: dropped
	s.remove(b)
	s.forward(c, frame(0x0b, 0x0c, "to a gone port")) // b forgotten: flooded
	arp := string(arpRequestFor(0x0a, gwIP.As4())[14:])
	arpOther := string(arpRequestFor(0x0a, [4]byte{10, 89, 0, 3})[14:])
	want := map[string][]string{
		"gw": {"to unknown", "broadcast", arp, "to a gone port"},
		"a":  {"b to a", "broadcast", "to a gone port"},
		"b":  {"to unknown", "a to b", "broadcast", arpOther, arp},
		"c":  {"to unknown", arpOther, arp},
	}
	got := map[string][]string{"gw": gw.got, "a": a.got, "b": b.got, "c": c.got}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("frames out of each port (-want +got):\n%s", d)
	}
}

func TestAnswerLocal(t *testing.T) {
	names := map[string]netip.Addr{"web": netip.MustParseAddr("10.89.0.2")}
	lookup := func(n string) (netip.Addr, bool) { a, ok := names[n]; return a, ok }
	query := func(name string, typ dnsmessage.Type) []byte {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, RecursionDesired: true})
		b.StartQuestions()
		b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET})
		q, _ := b.Finish()
		return q
	}
	tests := []struct {
		name string
		typ  dnsmessage.Type
		ok   bool
		a    []string
	}{
		{"WEB.", dnsmessage.TypeA, true, []string{"10.89.0.2"}},
		{"web.", dnsmessage.TypeAAAA, true, nil},
		{"example.com.", dnsmessage.TypeA, false, nil},
	}
	for _, tt := range tests {
		resp, ok := answerLocal(query(tt.name, tt.typ), lookup)
		if ok != tt.ok {
			t.Errorf("%s %v: ok %v", tt.name, tt.typ, ok)
			continue
		}
		if !ok {
			continue
		}
		var m dnsmessage.Message
		if err := m.Unpack(resp); err != nil {
			t.Fatal(err)
		}
		var as []string
		for _, r := range m.Answers {
			if a, ok := r.Body.(*dnsmessage.AResource); ok {
				as = append(as, netip.AddrFrom4(a.A).String())
			}
		}
		if m.ID != 7 || !m.Response || m.RCode != dnsmessage.RCodeSuccess || !cmp.Equal(as, tt.a) {
			t.Errorf("%s %v: %+v answers %v", tt.name, tt.typ, m.Header, as)
		}
	}
}
