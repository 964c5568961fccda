#!/usr/bin/env python3
"""startup_bench: time from process start to ready, and idle RSS, of `sidestream run`.

Runs `sidestream run` on the embedded broker over the CDR source and every example query in
queries/ (concatenated into one file), R times. Ready is the moment its stderr shows the line
"ready: N persistent queries running", printed once the embedded broker is up, the topics
exist and every query's consumer is subscribed. The clock starts just before the process is
spawned (fork and exec included). Idle RSS is VmRSS from /proc 2 s after ready, with no
input. Prints one JSON object on stdout.

Usage: startup_bench.py SIDESTREAM_BINARY [--runs R]
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

IDLE_SECONDS = 2.0


def stats(values):
    values = sorted(values)
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1],
            "runs": values}


def vm_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def one_run(binary, sql_path):
    start = time.monotonic()
    # The queries' PREDICT models sit in models/ beside queries/.
    models = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")
    process = subprocess.Popen([binary, "run", sql_path], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "SIDESTREAM_MODELS_DIR": models})
    try:
        for line in process.stderr:
            if line.startswith("ready:"):
                ready_ms = (time.monotonic() - start) * 1000
                break
        else:
            raise RuntimeError(f"sidestream run exited with {process.wait()} before ready")
        time.sleep(IDLE_SECONDS)
        return ready_ms, vm_kb(process.pid, "VmRSS") / 1024, line.strip()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = sorted(glob.glob(os.path.join(root, "queries/sources/*.sql")))
    files += sorted(glob.glob(os.path.join(root, "queries/*.sql")))
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as sql:
        sql.write("\n".join(open(path).read() for path in files))
        sql.flush()
        ready, rss = [], []
        for run in range(args.runs):
            ready_ms, rss_mb, line = one_run(args.binary, sql.name)
            ready.append(ready_ms)
            rss.append(rss_mb)
            print(f"startup run {run}: ready after {ready_ms:.0f} ms ({line}), idle RSS "
                  f"{rss_mb:.1f} MB", file=sys.stderr)
    print(json.dumps({"what": "sidestream run: process start to ready, idle RSS",
                      "files": [os.path.relpath(path, root) for path in files],
                      "runs": args.runs, "ready_ms": stats(ready), "idle_rss_mb": stats(rss),
                      "idle_seconds": IDLE_SECONDS}))


if __name__ == "__main__":
    main()
