"""huey, the peer of Benchmarks/jobs.sh: enqueue rate and drain rate of no-op tasks with one consumer
worker process, for SqliteHuey and RedisHuey. Prints one JSON line per backend."""
import json, os, subprocess, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
work = tempfile.mkdtemp(prefix="burg-huey-")
module = os.path.join(work, "peer_tasks.py")

for backend in ("sqlite", "redis"):
    with open(module, "w") as f:
        if backend == "sqlite":
            f.write(f"from huey import SqliteHuey\nhuey = SqliteHuey(filename={os.path.join(work, 'huey.db')!r}, results=False)\n")
        else:
            f.write("from huey import RedisHuey\nhuey = RedisHuey('burg-bench', results=False, port=int(__import__('os').environ.get('REDIS_PORT', '6399')))\n")
        f.write("@huey.task()\ndef noop():\n    pass\n")
    sys.path.insert(0, work)
    for name in ("peer_tasks",):
        sys.modules.pop(name, None)
    import peer_tasks
    peer_tasks.huey.flush()
    start = time.perf_counter()
    for _ in range(N):
        peer_tasks.noop()
    enqueue = N / (time.perf_counter() - start)
    start = time.perf_counter()
    consumer = subprocess.Popen([sys.executable, "-m", "huey.bin.huey_consumer", "peer_tasks.huey", "-w", "1", "-k", "process", "-q"],
                                cwd=work, env={**os.environ, "PYTHONPATH": work})
    while peer_tasks.huey.pending_count() > 0:
        time.sleep(0.002)
    drain = N / (time.perf_counter() - start)
    consumer.terminate()
    consumer.wait()
    print(json.dumps({"impl": f"huey-{backend}", "jobs": N, "enqueuePerSecond": int(enqueue), "drainPerSecond": int(drain)}))
    sys.path.remove(work)
