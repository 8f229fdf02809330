"""The Python side of runtime/mp's SharedMemory interoperability tests
(standard library only).

    python3 pyshm.py create NAME NF NI   create NAME holding NF float64 then NI int32, write
                                         f[i] = 1.5*i and n[i] = -3*i, print "ready", wait for a
                                         line on stdin, check f[i] == 3*i and n[i] == -3*i + 1
                                         (Go's write-back), close, unlink, print "ok"
    python3 pyshm.py attach NAME NF NI   attach to NAME, check f[i] == 0.25*i and n[i] == 7*i
                                         (Go's pattern), write f[i] = -f[i] and n[i] = 2*n[i],
                                         close without unlinking, print "ok"

The layout is what NumPy gives np.float64 and np.int32 arrays over shm.buf:
native byte order, packed, the int32s at byte offset 8*NF.
"""
import struct
import sys
from multiprocessing import resource_tracker, shared_memory


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    mode, name, nf, ni = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    size = 8 * nf + 4 * ni
    if mode == "create":
        shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        struct.pack_into("%dd" % nf, shm.buf, 0, *[1.5 * i for i in range(nf)])
        struct.pack_into("%di" % ni, shm.buf, 8 * nf, *[-3 * i for i in range(ni)])
        print("ready", flush=True)
        sys.stdin.readline()
        f = struct.unpack_from("%dd" % nf, shm.buf, 0)
        n = struct.unpack_from("%di" % ni, shm.buf, 8 * nf)
        shm.close()
        shm.unlink()
        for i in range(nf):
            if f[i] != 3.0 * i:
                fail("f[%d] = %r, want %r" % (i, f[i], 3.0 * i))
        for i in range(ni):
            if n[i] != -3 * i + 1:
                fail("n[%d] = %r, want %r" % (i, n[i], -3 * i + 1))
    else:
        shm = shared_memory.SharedMemory(name=name)
        # Python 3.11 registers attached blocks too, and its resource
        # tracker would unlink the Go program's block at this process's
        # exit; 3.13 has track=False for this.
        resource_tracker.unregister(shm._name, "shared_memory")
        if shm.size != size:
            fail("size %d, want %d" % (shm.size, size))
        f = struct.unpack_from("%dd" % nf, shm.buf, 0)
        n = struct.unpack_from("%di" % ni, shm.buf, 8 * nf)
        for i in range(nf):
            if f[i] != 0.25 * i:
                fail("f[%d] = %r, want %r" % (i, f[i], 0.25 * i))
        for i in range(ni):
            if n[i] != 7 * i:
                fail("n[%d] = %r, want %r" % (i, n[i], 7 * i))
        struct.pack_into("%dd" % nf, shm.buf, 0, *[-x for x in f])
        struct.pack_into("%di" % ni, shm.buf, 8 * nf, *[2 * x for x in n])
        shm.close()
    print("ok")


if __name__ == "__main__":
    main()
