package table

import (
	"encoding/binary"
	"math/bits"
)

// Hash is the hash of a key. It must be the same in every process and every
// build, so it cannot use the runtime's seeded hashes: it is FNV-1a over
// 8-byte words, finished with a multiply-xorshift mix so that keys differing
// only in high bits still spread over the table.
func Hash(key []byte) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset) ^ uint64(len(key))
	for len(key) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(key)) * prime
		key = key[8:]
	}
	for _, c := range key {
		h = (h ^ uint64(c)) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// reduce maps h onto [0, n) without a division.
func reduce(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}
