package mp

// SharedMemory is interoperable with Python's multiprocessing.shared_memory:
// on Linux, SharedMemory(name=N) is shm_open("/N"), which glibc implements as
// open("/dev/shm/N", O_RDWR|O_NOFOLLOW|O_CLOEXEC [|O_CREAT|O_EXCL], 0600),
// then ftruncate when creating, then an mmap of the file's whole size. Doing
// the same here makes one block visible to both, under one name.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mprace/mprace/runtime/internal/arena"
)

// SharedMemory errors.
var (
	// ErrSizeMismatch reports a block opened with a size other than the
	// one it has.
	ErrSizeMismatch = errors.New("mp: shared memory block has another size")
	// ErrNotSharedMemory reports a name under /dev/shm that is not a
	// regular file (a directory, a symbolic link, a device...).
	ErrNotSharedMemory = errors.New("mp: not a shared memory block")
	// ErrBadView reports a typed view that does not fit the block or is
	// misaligned for its element type.
	ErrBadView = errors.New("mp: view outside the shared memory block or misaligned")
)

// shmDir is where Linux keeps POSIX shared memory objects.
const shmDir = "/dev/shm"

// SharedMemory is a named block of raw bytes that any process can open by
// name, Python's multiprocessing.shared_memory.SharedMemory included: a
// block one creates, the other opens. Typed views (SharedSlice) lay out
// numbers as a NumPy array of the same dtype does over the block's buffer.
//
// Creating, opening, closing and unlinking are separate steps, as in Python.
// Close unmaps the block in this process; Unlink removes its name, and the
// memory goes once every process has closed it. Nothing here unlinks a
// block unless Unlink is called, whoever created it (Python's resource
// tracker unlinks blocks its process merely opened, gh-82300).
type SharedMemory struct {
	name    string
	data    []byte
	created bool
}

// CreateSharedMemory creates a block of size bytes, zeroed, under name
// (without a leading slash, as Python takes it), or under a fresh name
// like Python's own ("psm_" and hex digits) when name is empty. It fails
// with fs.ErrExist if the name is taken.
func CreateSharedMemory(name string, size int) (*SharedMemory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mp: CreateSharedMemory(%q, %d): the size must be positive", name, size)
	}
	if name == "" {
		var b [4]byte
		if err := arena.ReadRandom(b[:]); err != nil {
			return nil, fmt.Errorf("mp: CreateSharedMemory: a fresh name: %w", err)
		}
		name = "psm_" + hex.EncodeToString(b[:])
	}
	path, err := shmPath(name)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mp: CreateSharedMemory(%q): %w", name, &fs.PathError{Op: "create", Path: path, Err: err})
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Unlink(path)
		return nil, fmt.Errorf("mp: CreateSharedMemory(%q, %d): %w", name, size, err)
	}
	data, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Unlink(path)
		return nil, fmt.Errorf("mp: CreateSharedMemory(%q, %d): map: %w", name, size, err)
	}
	return &SharedMemory{name: name, data: data, created: true}, nil
}

// OpenSharedMemory opens the block called name, which another process (Go
// or Python) created. With size > 0 the block must have exactly that size
// (ErrSizeMismatch otherwise); with size 0 it is mapped whole. A missing
// block is fs.ErrNotExist; a name that is not a regular file is
// ErrNotSharedMemory.
func OpenSharedMemory(name string, size int) (*SharedMemory, error) {
	if size < 0 {
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q, %d): negative size", name, size)
	}
	path, err := shmPath(name)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	switch err {
	case unix.ELOOP:
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %s is a symbolic link: %w", name, path, ErrNotSharedMemory)
	case unix.EISDIR, unix.ENXIO:
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %s is not a regular file: %w", name, path, ErrNotSharedMemory)
	}
	if err != nil {
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %w", name, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %w", name, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %s is not a regular file: %w", name, path, ErrNotSharedMemory)
	case st.Size == 0:
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): the block is empty (its creator may not have sized it yet): %w", name, ErrSizeMismatch)
	case size > 0 && st.Size != int64(size):
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q, %d): the block has %d bytes: %w", name, size, st.Size, ErrSizeMismatch)
	case st.Size > int64(^uint(0)>>1):
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): %d bytes do not fit this address space", name, st.Size)
	}
	data, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mp: OpenSharedMemory(%q): map: %w", name, err)
	}
	return &SharedMemory{name: name, data: data}, nil
}

// shmPath checks a block name as shm_open does and returns its file.
func shmPath(name string) (string, error) {
	name = strings.TrimPrefix(name, "/")
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) || len(name) > 255 {
		return "", fmt.Errorf("mp: shared memory name %q: want 1 to 255 bytes without '/' or NUL", name)
	}
	return shmDir + "/" + name, nil
}

// Name returns the block's name, as Python's SharedMemory.name gives it.
func (m *SharedMemory) Name() string { return m.name }

// Size returns the block's size in bytes.
func (m *SharedMemory) Size() int { return len(m.data) }

// Created reports whether this process created the block.
func (m *SharedMemory) Created() bool { return m.created }

// Bytes returns the block's memory (Python's SharedMemory.buf). It must not
// be used after Close.
func (m *SharedMemory) Bytes() []byte {
	if m.data == nil {
		panic("mp: use of a SharedMemory after Close")
	}
	return m.data
}

// Close unmaps the block in this process; it does not unlink it. Slices of
// the block must not be used after it. Closing twice does nothing.
func (m *SharedMemory) Close() error {
	if m.data == nil {
		return nil
	}
	err := unix.Munmap(m.data)
	m.data = nil
	if err != nil {
		return fmt.Errorf("mp: SharedMemory(%q).Close: %w", m.name, err)
	}
	return nil
}

// Unlink removes the block's name, whoever created it: processes that have
// it open keep it until they close it; no new one can open it.
func (m *SharedMemory) Unlink() error { return UnlinkSharedMemory(m.name) }

// UnlinkSharedMemory removes the block called name.
func UnlinkSharedMemory(name string) error {
	path, err := shmPath(name)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("mp: UnlinkSharedMemory(%q): %s is not a regular file: %w", name, path, ErrNotSharedMemory)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("mp: UnlinkSharedMemory(%q): %w", name, err)
	}
	return nil
}

// Scalar is the set of element types a SharedSlice views: those with a
// NumPy dtype of the same layout (int8 to uint64, float32, float64,
// complex64, complex128; bool is NumPy's bool_).
type Scalar interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | ~complex64 | ~complex128 | ~bool
}

// SharedSlice views n elements of type T of the block starting at byte
// offset, in the machine's byte order, as a C-contiguous NumPy array of
// that dtype does (np.ndarray((n,), dtype=np.float64, buffer=shm.buf,
// offset=offset) is the same memory as SharedSlice[float64](m, offset, n)).
// n < 0 takes every whole element to the end of the block. The view fails
// with ErrBadView if it leaves the block or offset is not aligned for T.
func SharedSlice[T Scalar](m *SharedMemory, offset, n int) ([]T, error) {
	b := m.Bytes()
	size := int(unsafe.Sizeof(*new(T)))
	if offset < 0 || offset > len(b) || offset%int(unsafe.Alignof(*new(T))) != 0 {
		return nil, fmt.Errorf("%w: offset %d of a %d-byte block for %d-byte elements", ErrBadView, offset, len(b), size)
	}
	if n < 0 {
		n = (len(b) - offset) / size
	}
	if n > (len(b)-offset)/size {
		return nil, fmt.Errorf("%w: %d elements of %d bytes from offset %d of a %d-byte block", ErrBadView, n, size, offset, len(b))
	}
	if n == 0 {
		return []T{}, nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[offset])), n), nil
}
