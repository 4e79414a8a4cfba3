"""A synthetic contact-center export for the CLI tests and the bench:
calls over one day with a queue, a caller, a tier, a handle time, a
resolved flag and, for one call in four, an NPS answer. Same seed, same
file.

    python3 gen_export.py OUT.csv ROWS [SEED]     (or OUT.jsonl)
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

DAY0 = datetime(2026, 11, 22, tzinfo=timezone.utc)
QUEUES = ["ivr", "billing", "tech support", "sales", "retention", "chat bot", "email desk", "callback"]
CHANNELS = {"ivr": "phone", "billing": "phone", "tech support": "phone", "sales": "phone",
            "retention": "phone", "chat bot": "chat", "email desk": "email", "callback": "phone"}
TIERS = ["bronze", "silver", "gold", "platinum"]
FIELDS = ["ts", "queue", "channel", "caller", "tier", "handle_s", "solved", "nps"]


def rows(n, seed=1):
    rnd = random.Random(seed)
    step = 86_400_000 / max(n, 1)
    for i in range(n):
        t = DAY0 + timedelta(milliseconds=int(i * step) + rnd.randrange(1000))
        q = QUEUES[rnd.randrange(len(QUEUES))]
        caller = f"cust-{rnd.randrange(max(n // 10, 1)):07d}"
        nps = "" if rnd.random() >= 0.25 else str(min(10, max(0, int(rnd.gauss(7.5, 2.2)))))
        yield {
            "ts": t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "queue": q,
            "channel": CHANNELS[q],
            "caller": caller,
            "tier": TIERS[min(3, int(rnd.expovariate(1.2)))],
            "handle_s": f"{rnd.lognormvariate(5.3, 0.6):.1f}",
            "solved": "yes" if rnd.random() < 0.72 else "no",
            "nps": nps,
        }


def write(path, n, seed=1):
    with open(path, "w", newline="", encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            for r in rows(n, seed):
                r = {k: v for k, v in r.items() if v != ""}
                f.write(json.dumps(r) + "\n")
        else:
            f.write(",".join(FIELDS) + "\n")
            for r in rows(n, seed):
                f.write(",".join(f'"{r[k]}"' if "," in r[k] else r[k] for k in FIELDS) + "\n")


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
