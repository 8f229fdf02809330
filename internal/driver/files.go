package driver

import (
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"time"
)

// fileCache remembers the content hash of files on disk by size and
// modification time, so that a Run reads only the files that changed since
// the last one to compute keys.
type fileCache struct {
	mu    sync.Mutex
	known map[string]fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
	hash [sha256.Size]byte
}

func newFileCache() *fileCache { return &fileCache{known: make(map[string]fileStamp)} }

// hash returns the hash of name's contents as analysed: the overlay's when
// there is one, else the file's on disk.
func (c *fileCache) hash(name string, overlay map[string][]byte) ([sha256.Size]byte, error) {
	if src, ok := overlay[name]; ok {
		return sha256.Sum256(src), nil
	}
	fi, err := os.Stat(name)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	c.mu.Lock()
	st, ok := c.known[name]
	c.mu.Unlock()
	if ok && st.size == fi.Size() && st.mod.Equal(fi.ModTime()) {
		return st.hash, nil
	}
	src, err := os.ReadFile(name)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	st = fileStamp{size: fi.Size(), mod: fi.ModTime(), hash: sha256.Sum256(src)}
	c.mu.Lock()
	c.known[name] = st
	c.mu.Unlock()
	return st.hash, nil
}

// readFile returns name's contents as analysed.
func readFile(name string, overlay map[string][]byte) ([]byte, error) {
	if src, ok := overlay[name]; ok {
		return src, nil
	}
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	return src, nil
}
