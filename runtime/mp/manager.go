package mp

// A Manager is a named arena whose root word 0 points to its directory, an
// object holding a hash table from object names to object offsets. The creator publishes the root last, so a Manager whose
// root is unset was left behind by a creator that died while making it.

import (
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/table"
)

const (
	directoryVersion = 1
	directorySize    = table.HeaderSize
	// DefaultManagerSize is a Manager's size unless WithManagerSize says
	// otherwise. Memory is used only where objects are written.
	DefaultManagerSize = 1 << 30
)

// Manager is a named shared space that unrelated programs open by name,
// holding Locks, Values, Arrays, Queues, Dicts and Lists by name (see
// ManagedLock and the other Managed functions), like Python's
// multiprocessing.Manager without its server process. Its file is
// $XDG_RUNTIME_DIR/mprace-NAME when XDG_RUNTIME_DIR is set (a directory only
// the user can write, so no other user can take the name), and
// /dev/shm/mprace-NAME otherwise. The file is the user's alone (mode 0600)
// and outlives its processes until Unlink. A file truncated under its users
// gives them ErrCorrupt, never SIGBUS.
//
// Workers started with Func.Start inherit the family's arena, not a
// Manager: a worker that needs one opens it by name with OpenManager.
// A Manager can be open once in a process at a time.
type Manager struct {
	_      noCopy
	name   string
	a      *arena.Arena
	dir    *table.Map
	closed atomic.Bool
}

// ManagerOption configures NewManager.
type ManagerOption func(*managerConfig)

type managerConfig struct{ size int64 }

// WithManagerSize sets the Manager's size in bytes: the most its objects can
// hold together. The file is sparse, so this is an upper bound, not a cost.
func WithManagerSize(n int64) ManagerOption { return func(c *managerConfig) { c.size = n } }

// NewManager creates the Manager name. The name is 1 to 200 letters, digits,
// '.', '_' or '-'. It fails with an error wrapping fs.ErrExist if a Manager
// of that name exists (use OpenManager, or UnlinkManager first).
func NewManager(name string, opts ...ManagerOption) (*Manager, error) {
	cfg := managerConfig{size: DefaultManagerSize}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := arena.CreateNamed(name, cfg.size, func(a *arena.Arena) error {
		ref, err := a.NewObject(arena.KindDirectory, directoryVersion, 0, directorySize)
		if err != nil {
			return err
		}
		atomic.StoreUint64(a.Root(0), ref.Off)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mp: NewManager(%q): %w", name, err)
	}
	m, err := attachManager(name, a)
	if err != nil {
		a.Close()
		arena.UnlinkNamed(name)
		return nil, fmt.Errorf("mp: NewManager(%q): %w", name, err)
	}
	return m, nil
}

// OpenManager opens the Manager name, made by NewManager in this or another
// program. It fails with an error wrapping fs.ErrNotExist if there is none,
// ErrCorrupt if the file is not a Manager of this user's, and ErrIncomplete
// if its creator died before it finished making it (remove that one with
// UnlinkManager).
func OpenManager(name string) (*Manager, error) {
	a, err := arena.OpenNamed(name)
	if err != nil {
		return nil, fmt.Errorf("mp: OpenManager(%q): %w", name, err)
	}
	m, err := attachManager(name, a)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("mp: OpenManager(%q): %w", name, err)
	}
	return m, nil
}

func attachManager(name string, a *arena.Arena) (*Manager, error) {
	off := atomic.LoadUint64(a.Root(0))
	if off == 0 {
		return nil, arena.ErrIncomplete
	}
	ref, err := a.Object(off, arena.KindDirectory, directoryVersion, 0)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	if ref.Len < directorySize {
		return nil, fmt.Errorf("directory: %w: %d bytes", ErrCorrupt, ref.Len)
	}
	return &Manager{name: name, a: a, dir: table.AttachMap(a, ref.Data)}, nil
}

// Name returns the Manager's name.
func (m *Manager) Name() string { return m.name }

// Names returns the names of the Manager's objects.
func (m *Manager) Names() (_ []string, err error) {
	if err := m.use(); err != nil {
		return nil, err
	}
	defer m.a.Recover(m.a.Arm(), &err)
	var names []string
	if err := m.dir.Lock(); err != nil {
		return nil, fmt.Errorf("mp: Manager %q: %w", m.name, err)
	}
	err = m.dir.Each(func(k, _ []byte) error { names = append(names, string(k)); return nil })
	m.dir.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mp: Manager %q: %w", m.name, err)
	}
	return names, nil
}

// Close unmaps the Manager from this process. Handles of its objects must
// not be used afterwards. The Manager and its objects stay for other
// processes and later OpenManager calls until Unlink.
func (m *Manager) Close() error {
	if m == nil || m.a == nil {
		return fmt.Errorf("mp: Manager.Close: %w", errNoManager)
	}
	if m.closed.Swap(true) {
		return nil
	}
	if err := m.a.Close(); err != nil {
		return fmt.Errorf("mp: close Manager %q: %w", m.name, err)
	}
	return nil
}

// Unlink removes the Manager's name, if it still names this Manager, so
// that no other process can open it; processes that have it open keep using
// it until they close it, and then its memory is freed.
func (m *Manager) Unlink() error {
	if err := m.use(); err != nil {
		return err
	}
	if !m.a.IsNamed(m.name) {
		return fmt.Errorf("mp: unlink Manager %q: the name no longer refers to this Manager", m.name)
	}
	if err := arena.UnlinkNamed(m.name); err != nil {
		return fmt.Errorf("mp: unlink Manager %q: %w", m.name, err)
	}
	return nil
}

// UnlinkManager removes the Manager name without opening it: the way to
// clear one reported ErrIncomplete or ErrCorrupt.
func UnlinkManager(name string) error {
	if err := arena.UnlinkNamed(name); err != nil {
		return fmt.Errorf("mp: %w", err)
	}
	return nil
}

func (m *Manager) use() error {
	if m == nil || m.a == nil {
		return fmt.Errorf("mp: %w", errNoManager)
	}
	if m.closed.Load() {
		return fmt.Errorf("mp: Manager %q: %w", m.name, errManagerClosed)
	}
	if err := m.a.Usable(); err != nil {
		return fmt.Errorf("mp: Manager %q: %w", m.name, err)
	}
	return nil
}

var (
	errManagerClosed = errors.New("manager is closed")
	errNoManager     = errors.New("a nil or zero Manager: make one with NewManager or OpenManager")
)

// ManagedDict returns the Dict called name in m, making it if m has none. A
// second program that opens the Manager finds the same Dict by its name. It
// fails with ErrTypeMismatch if name holds a List or a Dict of other types.
func ManagedDict[K comparable, V any](m *Manager, name string) (*Dict[K, V], error) {
	d := &Dict[K, V]{}
	err := m.named(name, arena.KindDict, dictVersion, dictFP[K, V](), d.bind, func() (uint64, error) {
		nd, err := newDictIn[K, V](m.a)
		if err != nil {
			return 0, err
		}
		return nd.ref.Off, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mp: ManagedDict[%s](%q): %w", dictTypes[K, V](), name, err)
	}
	return d, nil
}

// ManagedList returns the List called name in m, making it if m has none;
// see ManagedDict.
func ManagedList[T any](m *Manager, name string) (*List[T], error) {
	l := &List[T]{}
	err := m.named(name, arena.KindList, listVersion, listFP[T](), l.bind, func() (uint64, error) {
		nl, err := newListIn[T](m.a)
		if err != nil {
			return 0, err
		}
		return nl.ref.Off, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mp: ManagedList[%s](%q): %w", reflect.TypeFor[T](), name, err)
	}
	return l, nil
}

// named finds the object called name or makes it with create, and binds it,
// all under the directory's lock so two programs asking at once get one
// object.
func (m *Manager) named(name string, kind arena.Kind, version uint16, fp uint64,
	bind func(arena.Ref) error, create func() (uint64, error)) (err error) {
	if err := m.use(); err != nil {
		return err
	}
	defer m.a.Recover(m.a.Arm(), &err)
	if name == "" {
		return errors.New("empty name")
	}
	key := []byte(name)
	h := table.Hash(key)
	if err := m.dir.Lock(); err != nil {
		return err
	}
	defer m.dir.Unlock()
	v, ok, err := m.dir.Get(key, h, nil)
	if err != nil {
		return err
	}
	var off uint64
	switch {
	case ok && len(v) != 8:
		return fmt.Errorf("%w: directory entry of %d bytes", ErrCorrupt, len(v))
	case ok:
		off = *(*uint64)(unsafe.Pointer(&v[0]))
	default:
		if off, err = create(); err != nil {
			return err
		}
		if err := m.dir.Set(key, h, unsafe.Slice((*byte)(unsafe.Pointer(&off)), 8)); err != nil {
			m.a.FreeObject(off)
			return err
		}
	}
	ref, err := m.a.Object(off, kind, version, fp)
	if err != nil {
		return err
	}
	return bind(ref)
}
