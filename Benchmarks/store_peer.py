#!/usr/bin/env python3
"""The design Burg's store replaces, measured the same way as `burg-microbench store`.

A typical Python backend: Python's sqlite3 module, a pool of connections (queue.Queue), WAL,
synchronous=NORMAL, busy_timeout 30000 (`timeout=30`), deferred transactions (the module's default: it
issues BEGIN before the first data-changing statement), and a retry-on-"database is locked" wrapper with
exponential backoff around each unit of work (5 attempts). Prints one JSON line like StoreBench.

usage: store_peer.py --workload write|read|increment --dir D [--seconds S] [--processes N] [--rows R]
"""
import argparse, json, multiprocessing, os, queue, random, shutil, sqlite3, sys, time

ATTEMPTS = 5


class Pool:
    def __init__(self, path, size=4):
        self.connections = queue.Queue()
        for _ in range(size):
            c = sqlite3.connect(path, timeout=30, check_same_thread=False)  # busy_timeout 30000
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            self.connections.put(c)

    def run(self, work):
        """Runs work(connection) with retry on 'locked'/'busy' and backoff; returns (result, retries)."""
        c = self.connections.get()
        try:
            delay = 0.001
            for attempt in range(ATTEMPTS):
                try:
                    result = work(c)
                    c.commit()
                    return result, attempt
                except sqlite3.OperationalError as e:
                    c.rollback()
                    message = str(e)
                    if ("locked" not in message and "busy" not in message) or attempt == ATTEMPTS - 1:
                        raise
                    time.sleep(random.uniform(0, delay))
                    delay = min(delay * 2, 0.1)
        finally:
            self.connections.put(c)


def prepare(directory, rows):
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    c = sqlite3.connect(os.path.join(directory, "data.db"))
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    c.execute("INSERT INTO counter VALUES (1, 0)")
    c.executemany("INSERT INTO kv (k, v) VALUES (?, 0)", ((k,) for k in range(1, rows + 1)))
    c.commit()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


def write(c, k):
    c.execute("UPDATE kv SET v = v + 1 WHERE k = ?", (k,))


def read(c, k):
    return c.execute("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()


def increment(c, k):
    # Read-modify-write as such code is usually written: the SELECT runs before the module's implicit
    # BEGIN (deferred), so another process may commit between the read and the write.
    value = c.execute("SELECT value FROM counter WHERE id = 1").fetchone()[0]
    c.execute("UPDATE counter SET value = ? WHERE id = 1", (value + 1,))


def measure(args, start_at=None):
    pool = Pool(os.path.join(args.dir, "data.db"))
    work = {"write": write, "read": read, "increment": increment}[args.workload]
    if start_at:
        time.sleep(max(0, start_at - time.time()))
    latencies, errors, retries, first_error = [], 0, 0, None
    start = time.perf_counter()
    end = start + args.seconds
    while True:
        before = time.perf_counter()
        if before >= end:
            break
        k = random.randint(1, args.rows)
        try:
            _, r = pool.run(lambda c: work(c, k))
            retries += r
            latencies.append(time.perf_counter() - before)
        except sqlite3.Error as e:
            errors += 1
            first_error = first_error or str(e)
    elapsed = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6) if latencies else 0
    return {"impl": "python", "workload": args.workload, "processes": 1, "ops": len(latencies), "errors": errors,
            "seconds": elapsed, "opsPerSecond": int(len(latencies) / elapsed), "p50us": pct(0.5), "p99us": pct(0.99),
            "retries": retries, "firstError": first_error}


def child(args, start_at, results):
    results.put(measure(args, start_at))


def counter_value(directory):
    c = sqlite3.connect(os.path.join(directory, "data.db"))
    value = c.execute("SELECT value FROM counter WHERE id = 1").fetchone()[0]
    c.close()
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", choices=["write", "read", "increment"], default="write")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    prepare(args.dir, args.rows)
    if args.processes == 1:
        result = measure(args)
    else:
        results = multiprocessing.Queue()
        start_at = time.time() + 1.0
        procs = [multiprocessing.Process(target=child, args=(args, start_at, results)) for _ in range(args.processes)]
        for p in procs:
            p.start()
        parts = [results.get() for _ in procs]
        for p in procs:
            p.join()
        result = {"impl": "python", "workload": args.workload, "processes": args.processes,
                  "ops": sum(p["ops"] for p in parts), "errors": sum(p["errors"] for p in parts),
                  "seconds": max(p["seconds"] for p in parts),
                  "p50us": sorted(p["p50us"] for p in parts)[len(parts) // 2], "p99us": max(p["p99us"] for p in parts),
                  "retries": sum(p["retries"] for p in parts),
                  "firstError": next((p["firstError"] for p in parts if p["firstError"]), None)}
        result["opsPerSecond"] = int(result["ops"] / result["seconds"])
    if args.workload == "increment":
        result["lost"] = result["ops"] - counter_value(args.dir)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
