"""Deterministic NDJSON for the records benchmark: N rows of a 10-field order (Benchmarks/records.sh).
Usage: python3 records_data.py ROWS > orders.ndjson"""
import json
import random
import sys

WORDS = "steel bracket valve housing panel sensor gear frame cable pump filter knee shoulder routine".split()


def rows(count, seed=1):
    rng = random.Random(seed)
    for i in range(count):
        yield {
            "code": f"C{i:08d}",
            "title": " ".join(rng.choice(WORDS) for _ in range(5)),
            "customer": rng.choice(WORDS).title(),
            "email": f"user{i}@example.org",
            "qty": rng.randint(1, 1000),
            "price": round(rng.random() * 100, 2),
            "paid": rng.random() < 0.5,
            "due": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:00:00.000Z",
            "status": rng.choice(["open", "done", "hold"]),
            "notes": " ".join(rng.choice(WORDS) for _ in range(8)),
        }


if __name__ == "__main__":
    out = sys.stdout
    for row in rows(int(sys.argv[1])):
        out.write(json.dumps(row) + "\n")
