"""Baseline for runtime/mp's Queue benchmarks: Python's multiprocessing.Queue
between this process (the producer) and one consumer process.

    python3 pyqueue.py int N        N small ints (the Go side sends int64s)
    python3 pyqueue.py bytes64k N   N 64 KiB bytes objects

Prints the seconds from the first put to the consumer's last get; starting
the consumer is not counted.
"""
import multiprocessing as mp
import sys
import time


def consume(q, n, ready, done):
    ready.put(True)
    for _ in range(n):
        q.get()
    done.put(time.perf_counter())  # CLOCK_MONOTONIC: comparable across processes


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    small = mode == "int"
    q = mp.Queue(maxsize=4096 if small else 8)
    ready, done = mp.Queue(), mp.Queue()
    p = mp.Process(target=consume, args=(q, n, ready, done))
    p.start()
    ready.get()
    msg = bytes(65536)
    start = time.perf_counter()
    for i in range(n):
        q.put(i if small else msg)
    end = done.get()
    p.join()
    print(end - start)


if __name__ == "__main__":
    main()
