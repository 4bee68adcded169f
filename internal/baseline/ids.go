package baseline

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// IDs returns n distinct IDs shaped like the UUIDs MCP sessions and
// servers commonly carry, with prefix in front ("srv-", "tr-"). The same
// seed gives the same IDs.
func IDs(prefix string, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	out := make([]string, n)
	for i := range out {
		a, b := rng.Uint64(), rng.Uint64()
		// The index keeps IDs distinct whatever the generator does.
		out[i] = fmt.Sprintf("%s%08x-%04x-4%03x-%04x-%012x", prefix,
			uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
			uint16(b>>48)&0x3fff|0x8000, uint64(i)<<20|b&0xfffff)
	}
	return out
}

// Probe returns a power-of-two number of IDs drawn at random from ids, so
// that a hot loop can index it with i&(len-1) and visit keys in no
// cache-friendly order. Its length is the power of two at or above
// len(ids), between 1<<10 and 1<<20.
func Probe(ids []string, seed uint64) []string {
	n := 1 << min(max(bits.Len(uint(len(ids)-1)), 10), 20)
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]string, n)
	for i := range out {
		out[i] = ids[rng.IntN(len(ids))]
	}
	return out
}
