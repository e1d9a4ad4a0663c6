package run

import (
	"crypto/rand"
	"math/big"
)

// Words for container names chosen when --name is absent ("quiet_otter"),
// as Docker gives an adjective_noun name.
var (
	nameAdjectives = []string{
		"able", "amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp", "curious",
		"dapper", "eager", "fair", "fond", "frosty", "gentle", "glad", "golden", "happy", "hardy",
		"honest", "jolly", "keen", "kind", "lively", "lucid", "mellow", "merry", "misty", "nimble",
		"noble", "patient", "plucky", "polite", "proud", "quick", "quiet", "rapid", "rustic", "sharp",
		"shy", "silent", "sleek", "snug", "spry", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise",
	}
	nameNouns = []string{
		"badger", "beaver", "bison", "cheetah", "coyote", "crane", "dingo", "dormouse", "eagle", "egret",
		"ferret", "finch", "fox", "gecko", "gopher", "hare", "hedgehog", "heron", "ibex", "jackal",
		"kestrel", "koala", "lemur", "lynx", "marmot", "marten", "meerkat", "mole", "moose", "newt",
		"ocelot", "otter", "owl", "panda", "pika", "puffin", "quokka", "rabbit", "raven", "seal",
		"shrew", "stoat", "swift", "tapir", "tern", "vole", "walrus", "weasel", "wombat", "wren", "yak",
	}
)

// randomName picks an adjective_noun container name.
func randomName() string {
	pick := func(words []string) string {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		if err != nil {
			return words[0]
		}
		return words[n.Int64()]
	}
	return pick(nameAdjectives) + "_" + pick(nameNouns)
}
