"""Baseline for runtime/mp's Pool and synchronisation benchmarks: Python's
multiprocessing on the same machine.

    python3 pypool.py submit N     N apply_async of a tiny function on Pool(2), then every get
    python3 pypool.py imap1 N      imap_unordered of N inputs, chunksize 1, on Pool(2)
    python3 pypool.py map N        Pool(2).map of N tiny inputs (its default chunking)
    python3 pypool.py event N      N Event round trips between two processes (set, the other clears and answers)
    python3 pypool.py semaphore N  N Semaphore(0) round trips between two processes (release, the other acquires and answers)

Prints the seconds the operations took (the pool's or processes' start-up excluded).
"""
import multiprocessing as mp
import sys
import time


def square(x):
    return x * x


def event_peer(ping, pong, n):
    for _ in range(n):
        ping.wait()
        ping.clear()
        pong.set()


def sem_peer(ping, pong, n):
    for _ in range(n):
        ping.acquire()
        pong.release()


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode in ("submit", "imap1", "map"):
        with mp.Pool(2) as p:
            p.map(square, range(4))  # workers up
            start = time.perf_counter()
            if mode == "submit":
                rs = [p.apply_async(square, (i,)) for i in range(n)]
                out = [r.get() for r in rs]
            elif mode == "imap1":
                out = sorted(p.imap_unordered(square, range(n), chunksize=1))
            else:
                out = p.map(square, range(n))
            secs = time.perf_counter() - start
            if out != [i * i for i in range(n)]:
                sys.exit("wrong results")
        print(secs)
        return
    if mode == "event":
        ping, pong = mp.Event(), mp.Event()
        proc = mp.Process(target=event_peer, args=(ping, pong, n))
        proc.start()
        start = time.perf_counter()
        for _ in range(n):
            ping.set()
            pong.wait()
            pong.clear()
    else:
        ping, pong = mp.Semaphore(0), mp.Semaphore(0)
        proc = mp.Process(target=sem_peer, args=(ping, pong, n))
        proc.start()
        start = time.perf_counter()
        for _ in range(n):
            ping.release()
            pong.acquire()
    secs = time.perf_counter() - start
    proc.join()
    print(secs)


if __name__ == "__main__":
    main()
