package arena

// Named arenas are files under $XDG_RUNTIME_DIR or /dev/shm (see NamedDir)
// that unrelated processes open by name. The name must never show a half-made arena, so the creator makes the
// file under a temporary name, takes an exclusive flock on it, links it to
// its name (which fails if the name is taken, like O_EXCL), and only then
// sizes and formats it and runs the caller's initialization; it drops the
// flock when all of that is done. An opener waits for a shared flock before
// it reads anything. The kernel drops a flock when its holder dies, so an
// opener that gets the lock on a file that is still empty, unformatted or
// (the caller's check) uninitialized knows that its creator crashed, and
// reports ErrIncomplete instead of using it.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ErrIncomplete reports a named arena whose creator died before it finished
// making it. Remove it with UnlinkNamed and create it anew.
var ErrIncomplete = errors.New("named shared memory was left incomplete by a creator that died")

// Where named arenas live: their files are DIR/mprace-NAME, DIR being
// $XDG_RUNTIME_DIR when it is set and /dev/shm otherwise. The runtime
// directory is the user's alone (the XDG base directory specification makes
// it mode 0700 and owned by the user), so no other user can take a name
// there first or remove the file; /dev/shm is writable by everyone, so there
// another user can take a name first (reported as ErrCorrupt: not this
// user's), though never read or change this user's files.
const (
	RuntimeDirEnv = "XDG_RUNTIME_DIR"
	SharedDir     = "/dev/shm"
)

// NamedDir returns the directory of named arenas. An $XDG_RUNTIME_DIR that
// is not a directory of this user's that no one else can write is an error,
// rather than a silent fall back that would split programs between two
// directories.
func NamedDir() (string, error) {
	dir := os.Getenv(RuntimeDirEnv)
	if dir == "" {
		return SharedDir, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "", fmt.Errorf("arena: $%s: %w", RuntimeDirEnv, err)
	}
	if !filepath.IsAbs(dir) || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
		return "", fmt.Errorf("arena: $%s=%q is not an absolute directory of this user's that only it can write (mode %o, owner %d)",
			RuntimeDirEnv, dir, st.Mode&0o7777, st.Uid)
	}
	return dir, nil
}

// OpenTimeout bounds how long OpenNamed waits for a creator that is still
// initializing the arena.
const OpenTimeout = 10 * time.Second

// NamedPath returns the file of the named arena name, or an error if name is
// not a valid name: 1 to 200 letters, digits, '.', '_' or '-', not starting
// with '.'.
func NamedPath(name string) (string, error) {
	if len(name) == 0 || len(name) > 200 || name[0] == '.' {
		return "", fmt.Errorf("arena: invalid name %q: want 1 to 200 characters, not starting with '.'", name)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", fmt.Errorf("arena: invalid name %q: only letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	dir, err := NamedDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mprace-"+name), nil
}

// CreateNamed makes the named arena name of the given size, runs init on it
// while no other process can open it, and returns it. It fails with an
// error wrapping fs.ErrExist if the name is taken. If init fails the name is
// removed again.
func CreateNamed(name string, size int64, init func(*Arena) error) (*Arena, error) {
	path, err := NamedPath(name)
	if err != nil {
		return nil, err
	}
	if size < MinSize || size != int64(int(size)) {
		return nil, fmt.Errorf("arena: size %d is below the minimum %d", size, MinSize)
	}
	// A random suffix: a temporary file left by a creator that crashed
	// (empty, so it costs nothing) must not block a later creator that got
	// the same pid.
	var suffix [8]byte
	if err := ReadRandom(suffix[:]); err != nil {
		return nil, fmt.Errorf("arena: create %s: %w", name, err)
	}
	tmp := fmt.Sprintf("%s.creating-%d-%x", path, os.Getpid(), suffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("arena: create %s: %w", name, err)
	}
	fd := int(f.Fd())
	// The file is new and unnamed to others, so this cannot block.
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		os.Remove(tmp)
		f.Close()
		return nil, fmt.Errorf("arena: lock %s: %w", tmp, err)
	}
	err = os.Link(tmp, path)
	os.Remove(tmp)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("arena: create %s: %w", name, err)
	}
	a, err := formatNamed(f, name, size, init)
	if err != nil {
		os.Remove(path)
		f.Close()
		return nil, fmt.Errorf("arena: create %s: %w", name, err)
	}
	if err := unix.Flock(fd, unix.LOCK_UN); err != nil {
		a.Close()
		os.Remove(path)
		return nil, fmt.Errorf("arena: unlock %s: %w", name, err)
	}
	return a, nil
}

func formatNamed(f *os.File, name string, size int64, init func(*Arena) error) (*Arena, error) {
	// Whatever the umask allowed, the arena is the user's alone.
	if err := f.Chmod(0o600); err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	a, err := format(mem, int(f.Fd()))
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	a.file = f
	a.named, a.name = true, name
	if err := init(a); err != nil {
		a.closeKeepFile()
		return nil, err
	}
	return a, nil
}

// closeKeepFile detaches and unmaps a without closing its file.
func (a *Arena) closeKeepFile() {
	f, mem := a.file, a.mem
	a.file = nil
	a.Close()
	unix.Munmap(mem)
	a.file = f
}

// OpenNamed opens the named arena name, made by CreateNamed in this or
// another process. It waits up to OpenTimeout for a creator that is still
// initializing it. A name that does not exist gives an error wrapping
// fs.ErrNotExist; a file that is not an arena of this user's, ErrCorrupt; an
// arena whose creator died while making it, ErrIncomplete.
func OpenNamed(name string) (*Arena, error) {
	path, err := NamedPath(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("arena: open %s: %w", name, err)
	}
	a, err := openNamed(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("arena: open %s: %w", name, err)
	}
	a.name = name
	return a, nil
}

func openNamed(f *os.File) (*Arena, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
		return nil, fmt.Errorf("%w: not a private regular file of this user (mode %o, owner %d)", ErrCorrupt, st.Mode, st.Uid)
	}
	if err := waitShared(f, OpenTimeout); err != nil {
		return nil, err
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
	var m [len(magic)]byte
	if n, _ := f.ReadAt(m[:], 0); n < len(m) || m == [len(magic)]byte{} {
		return nil, ErrIncomplete
	}
	a, err := Open(f)
	if err != nil {
		return nil, err
	}
	a.named = true
	return a, nil
}

// waitShared takes a shared flock on f, polling so that a creator stuck in
// its initialization cannot hang the opener.
func waitShared(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			return fmt.Errorf("lock: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still being created after %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// UnlinkNamed removes the name of a named arena. Processes that have it
// open keep using it; its memory is freed when the last one closes it.
func UnlinkNamed(name string) error {
	path, err := NamedPath(name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("arena: unlink %s: %w", name, err)
	}
	return nil
}

// IsNamed reports whether a's file is the one now named name: false after
// the name was removed, or removed and made anew by another arena.
func (a *Arena) IsNamed(name string) bool {
	path, err := NamedPath(name)
	if err != nil || a.file == nil {
		return false
	}
	var mine, named unix.Stat_t
	if unix.Fstat(int(a.file.Fd()), &mine) != nil || unix.Stat(path, &named) != nil {
		return false
	}
	return mine.Dev == named.Dev && mine.Ino == named.Ino
}
