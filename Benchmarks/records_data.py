"""Deterministic NDJSON for the records benchmark: N rows of a 10-field order (Benchmarks/records.sh).
Usage: python3 records_data.py ROWS > orders.ndjson; python3 records_data.py --needles"""
import json
import random
import sys

WORDS = "steel bracket valve housing panel sensor gear frame cable pump filter knee shoulder routine".split()
SYLLABLES = "ka ri to me lu sa no vi de pa gro ste bel mon tra qui fen dor zal wex hu ly".split()


def vocabulary(size=5000, seed=7):
    """Pseudo-words with the spread of real names and product words (the title field's text)."""
    rng = random.Random(seed)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def needles(count=5, seed=11):
    """Five-letter pieces of vocabulary words: what a user types into a search box."""
    rng = random.Random(seed)
    vocab = [w for w in vocabulary() if len(w) >= 6]
    return [w[1:6] for w in rng.sample(vocab, count)]


def rows(count, seed=1):
    rng = random.Random(seed)
    vocab = vocabulary()
    for i in range(count):
        yield {
            "code": f"C{i:08d}",
            "title": " ".join(rng.choice(vocab) for _ in range(4)),
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
    if sys.argv[1] == "--needles":
        print(",".join(needles()))
    else:
        out = sys.stdout
        for row in rows(int(sys.argv[1])):
            out.write(json.dumps(row) + "\n")
