# The Python baseline for examples/counter: the program from Python's
# multiprocessing documentation, with the counts as arguments.
#   python3 examples/counter/python/counter.py 5 200000
import sys
from multiprocessing import Process, Value, Lock


def work(counter, lock, n):
    for _ in range(n):
        with lock:
            counter.value += 1


if __name__ == "__main__":
    procs, n = int(sys.argv[1]), int(sys.argv[2])
    counter = Value("i", 0)
    lock = Lock()
    ps = [Process(target=work, args=(counter, lock, n)) for _ in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(f"Final counter value: {counter.value}")
