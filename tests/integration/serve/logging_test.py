#!/usr/bin/env python3
"""`sidestream serve`'s log: log.format=json makes every stderr line one JSON object (time,
level, logger, message), librdkafka's lines included; log.level filters them; a bad level is
refused at start.
  logging_test.py SIDESTREAM
Exit 0 pass, 1 fail."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def serve(sidestream, work, name, *settings, stop_after_listening=True):
    """Runs serve with `settings` until it listens (then SIGTERM), or for 4 s; its stderr lines."""
    out, err = os.path.join(work, name + ".out"), os.path.join(work, name + ".err")
    args = [sidestream, "serve", "--port", "0"]
    for setting in settings:
        args += ["--set", setting]
    process = subprocess.Popen(args, stdout=open(out, "w"), stderr=open(err, "w"))
    deadline = time.time() + 30
    while time.time() < deadline and process.poll() is None:
        if stop_after_listening and "listening on" in open(out).read():
            break
        if not stop_after_listening and time.time() > deadline - 26:
            break
        time.sleep(0.1)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM if stop_after_listening else signal.SIGKILL)
    process.wait(timeout=60)
    return process.returncode, open(err).read().splitlines()


def json_lines(lines, what):
    parsed = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            fail(f"{what}: a log line is not JSON: {line!r}")
        if set(record) != {"time", "level", "logger", "message"}:
            fail(f"{what}: unexpected fields in {record}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"]):
            fail(f"{what}: time {record['time']!r} is not ISO 8601 UTC")
        parsed.append(record)
    return parsed


def main():
    sidestream = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        status, lines = serve(sidestream, work, "json", "log.format=json")
        records = json_lines(lines, "a clean start and stop")
        if status != 0 or not any(r["level"] == "info" and r["message"].startswith("stopping")
                                  for r in records):
            fail(f"exit {status}, no 'stopping' info line in {records}")
        print(f"ok {len(records)} JSON lines from a start and a SIGTERM")

        # librdkafka's lines come through the same log: a broker that refuses connections.
        queries = os.path.join(work, "queries.sql")
        open(queries, "w").write("CREATE STREAM s (v INT) WITH (kafka_topic='s', "
                                 "value_format='JSON', partitions=1);\n")
        _, lines = serve(sidestream, work, "refused", "log.format=json",
                         "bootstrap.servers=127.0.0.1:1", "queries.file=" + queries,
                         stop_after_listening=False)
        records = json_lines(lines, "a refused broker")
        if not any(r["level"] == "error" and r["message"].startswith("kafka ")
                   and "Connection refused" in r["message"] for r in records):
            fail(f"no librdkafka error line in {records}")
        print("ok librdkafka's connection errors are JSON lines at level error")

        status, lines = serve(sidestream, work, "quiet", "log.level=error")
        if status != 0 or any("stopping" in line for line in lines):
            fail(f"log.level=error still wrote info lines: {lines}")
        print("ok log.level=error drops info lines")

        status, lines = serve(sidestream, work, "bad", "log.level=loud")
        if status != 2 or not any("'loud' is not one of" in line for line in lines):
            fail(f"a bad log.level gave exit {status}: {lines}")
        print("ok a bad log.level is refused at start")
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
