package network

import (
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// answerLocal answers a DNS query about a name lookup knows (a member of
// a user-defined network, by name or alias): an A record for A and ANY
// questions, an empty answer for other types of a known name (AAAA: the
// network is IPv4 only, and an empty answer stops resolvers from looking
// further). ok is false when the query is not about a known name: it is
// then forwarded upstream.
func answerLocal(q []byte, lookup func(name string) (netip.Addr, bool)) (resp []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil || h.Response {
		return nil, false
	}
	question, err := p.Question()
	if err != nil || question.Class != dnsmessage.ClassINET {
		return nil, false
	}
	name := strings.ToLower(strings.TrimSuffix(question.Name.String(), "."))
	addr, known := lookup(name)
	if !known {
		return nil, false
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(question) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if question.Type == dnsmessage.TypeA || question.Type == dnsmessage.TypeALL {
		// TTL 0: a member's address changes when it restarts.
		rh := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 0}
		if b.AResource(rh, dnsmessage.AResource{A: addr.As4()}) != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
