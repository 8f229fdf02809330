"""Baseline for runtime/mp's Dict benchmarks: Python's multiprocessing
Manager dict on the same machine.

    python3 pymanager.py getset N      N operations (Get and Set alternately) from one process
    python3 pymanager.py getset4 N     the same split over 4 processes
    python3 pymanager.py update4 N     N increments of one key, with the Manager's Lock, from 4 processes

Prints the seconds the operations took (the Manager's start-up excluded).
"""
import multiprocessing as mp
import sys
import time


def getset(d, base, n):
    for i in range(n):
        k = base + i % 1024
        if i % 2:
            d[k] = i
        else:
            d.get(k)


def update(d, lock, n):
    for _ in range(n):
        with lock:
            d["hot"] += 1


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    with mp.Manager() as m:
        d = m.dict()
        d["hot"] = 0
        lock = m.Lock()
        if mode == "getset":
            start = time.perf_counter()
            getset(d, 0, n)
        else:
            per = max(n // 4, 1)
            if mode == "getset4":
                procs = [mp.Process(target=getset, args=(d, p * 1024, per)) for p in range(4)]
            else:
                procs = [mp.Process(target=update, args=(d, lock, per)) for p in range(4)]
            start = time.perf_counter()
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            if mode == "update4" and d["hot"] != 4 * per:
                sys.exit("lost updates: %d of %d" % (d["hot"], 4 * per))
        print(time.perf_counter() - start)


if __name__ == "__main__":
    main()
