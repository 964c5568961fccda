#!/usr/bin/env python3
"""Pull-query latency of `sidestream serve`: a CREATE TABLE AS SELECT over 1000 keys (rows sent
through /inserts-stream), then sequential key lookups and full scans over HTTP/1.1 (median and
p99 of each), with GET /info on the same server as the ceiling (a request that reaches neither
the engine nor a stream thread); and, when h2load (nghttp2-client) is installed, key lookups
over HTTP/2 with 8 streams in flight. Usage: pull_query_bench.py SIDESTREAM [REQUESTS]."""
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    sidestream = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    work = tempfile.mkdtemp()
    log = os.path.join(work, "serve.out")
    server = subprocess.Popen([sidestream, "serve", "--port", "0"], stdout=open(log, "w"),
                              stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(100):
            found = re.search(r"http://127\.0\.0\.1:(\d+)", open(log).read())
            if found:
                port = int(found.group(1))
                break
            time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def post(path, body):
            connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()

        status, body = post("/ksql", json.dumps({"ksql": (
            "CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) WITH (kafka_topic='calls', "
            "value_format='JSON', partitions=4); CREATE TABLE TOTALS AS SELECT CALLER, "
            "COUNT(*) AS N, SUM(SECS) AS SECS FROM CALLS GROUP BY CALLER;")}))
        assert status == 200, body
        rows = [json.dumps({"target": "CALLS"})]
        rows += [json.dumps({"CALLER": f"c{i}", "SECS": i}) for i in range(1000)]
        status, body = post("/inserts-stream", "\n".join(rows))
        assert status == 200 and body.count(b'"ok"') == 1000, body[:300]
        scan = json.dumps({"ksql": "SELECT CALLER FROM TOTALS;"})
        deadline = time.time() + 60
        while time.time() < deadline:
            status, body = post("/query", scan)
            if body.count(b'"row"') == 1000:
                break
            time.sleep(0.2)
        assert body.count(b'"row"') == 1000, body[:300]

        def timed(method, path, body=None):
            samples = []
            for i in range(requests):
                started = time.perf_counter()
                connection.request(method, path, body=body(i) if body else None,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status == 200
            samples.sort()
            return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]

        results = {
            "GET /info (ceiling)": timed("GET", "/info"),
            "pull key lookup": timed("POST", "/query", lambda i: json.dumps(
                {"ksql": f"SELECT * FROM TOTALS WHERE CALLER='c{i % 1000}';"})),
            "pull full scan, 1000 rows": timed("POST", "/query", lambda i: scan),
        }
        for name, (median, p99) in results.items():
            print(f"{name:28s} median {median:7.2f} ms   p99 {p99:7.2f} ms   ({requests} requests)")
        if shutil.which("h2load"):
            data = os.path.join(work, "lookup.json")
            with open(data, "w") as f:
                f.write(json.dumps({"sql": "SELECT * FROM TOTALS WHERE CALLER='c7';"}))
            out = subprocess.run(["h2load", "-n", str(requests * 4), "-c", "1", "-m", "8", "-d", data,
                                  "-H", "Content-Type: application/json",
                                  f"http://127.0.0.1:{port}/query-stream"],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith(("finished in", "requests:", "time for request")):
                    print("h2load pull key lookup (8 streams):", line.strip())
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
