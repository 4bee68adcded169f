// Package hashing maps registry IDs to shards.
//
// An ID is hashed once per operation with xxh3. The resulting [Key] carries
// the hash beside the ID, so the shard's map reuses it instead of hashing
// the ID a second time: the top bits of the hash choose the shard and the
// low bits, which the map uses for its buckets, stay independent of them.
package hashing

import (
	"fmt"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// MaxShards is the largest shard count a [Picker] accepts.
const MaxShards = 256

// Key is an ID with its hash. Two keys are equal when their IDs are equal,
// because equal IDs always carry equal hashes.
type Key struct {
	Hash uint64
	ID   string
}

// Hasher hashes an ID. [XXH3] is the one the registry uses; tests swap in
// others (see [Constant]) to prove that correctness never depends on how
// IDs spread.
type Hasher func(id string) uint64

// XXH3 hashes id with 64-bit xxh3. It does not allocate.
func XXH3(id string) uint64 {
	return xxh3.HashString(id)
}

// Constant returns a hasher that gives every ID the same hash, so that
// every ID lands in one shard and one map bucket chain. It exists for
// tests: a registry must stay correct under it, only slower.
func Constant(h uint64) Hasher {
	return func(string) uint64 { return h }
}

// OneShard hashes with xxh3 but clears the top byte, so every ID lands in
// shard 0 whatever the shard count, while the map buckets inside that shard
// still spread. Tests run the whole suite under it.
func OneShard(id string) uint64 {
	return xxh3.HashString(id) >> 8
}

// MapHasher is the hash function the shard maps use for [Key]: it returns
// the hash the key already carries, mixed with the map's seed.
func MapHasher(k Key, seed uint64) uint64 {
	return k.Hash ^ seed
}

// Picker chooses a shard for an ID. It is immutable and safe for
// concurrent use.
type Picker struct {
	hash  Hasher // nil means XXH3, called directly
	shift uint   // 64 - log2(shards); in Go, a shift by 64 yields 0
	n     int
}

// NewPicker returns a picker over shards shards, which must be a power of
// two from 1 to [MaxShards]. A nil hasher means [XXH3].
func NewPicker(shards int, h Hasher) (Picker, error) {
	if shards < 1 || shards > MaxShards || shards&(shards-1) != 0 {
		return Picker{}, fmt.Errorf(
			"hashing: shard count %d is not a power of two in [1, %d]",
			shards, MaxShards)
	}
	return Picker{
		hash:  h,
		shift: uint(64 - bits.TrailingZeros(uint(shards))),
		n:     shards,
	}, nil
}

// Shards returns the number of shards.
func (p Picker) Shards() int { return p.n }

// Key hashes id once. It does not allocate.
func (p Picker) Key(id string) Key {
	if p.hash == nil {
		return Key{Hash: xxh3.HashString(id), ID: id}
	}
	return Key{Hash: p.hash(id), ID: id}
}

// Shard returns the shard index of k, taken from the top bits of its hash.
func (p Picker) Shard(k Key) int {
	return int(k.Hash >> p.shift)
}
