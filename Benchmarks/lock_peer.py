"""Uncontended acquire+release latency of Python's filelock and portalocker, measured the way
burg-microbench measures Burg's FileLock: one lock object reused, each acquire+release timed.
Prints one JSON line per library."""
import json
import os
import sys
import time

import filelock
import portalocker


def summary(samples):
    samples.sort()
    n = len(samples)
    return {"samples": n, "p50": samples[n // 2], "p99": samples[min(n - 1, n * 99 // 100)],
            "mean": sum(samples) / n}


def measure(name, acquire, release, iterations):
    for _ in range(iterations // 10):
        acquire(); release()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        acquire(); release()
        samples.append(clock() - start)
    print(json.dumps({"name": name, "acquireRelease": summary(samples)}, sort_keys=True))


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    path = os.path.join(directory, "peer.lock")
    lock = filelock.FileLock(path)
    measure(f"python filelock {filelock.__version__}", lock.acquire, lock.release, iterations)
    plock = portalocker.Lock(path + "2", mode="a", flags=portalocker.LOCK_EX | portalocker.LOCK_NB)
    measure(f"python portalocker {portalocker.__version__}", plock.acquire, plock.release, iterations)


if __name__ == "__main__":
    main()
