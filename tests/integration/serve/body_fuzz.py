#!/usr/bin/env python3
"""Body fuzzer for `sidestream serve`: random, broken and hostile bodies and every method on
every route, over HTTP/1.1 (http.client) and HTTP/2 (curl --http2-prior-knowledge). Fails on
any 5xx, a dropped connection, or the server dying. Seeded, so a failure can be replayed:
SERVE_FUZZ_SEED=n."""
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROUTES = ["/ksql", "/query", "/query-stream", "/close-query", "/inserts-stream", "/info",
          "/healthcheck", "/chc/live", "/chc/ready", "/clusterStatus", "/metrics", "/status/x",
          "/status/stream/`F0`/create", "/status/", "/", "/console/console.js",
          "/console/nope.css", "/ksql/", "/KSQL", "/query-stream?x=1", "/%00", "/" + "a" * 3000]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
SQL = ["CREATE STREAM F{n} (K STRING KEY, V INT) WITH (kafka_topic='f{n}', value_format='JSON');",
       "SELECT * FROM F0 EMIT CHANGES LIMIT 1;", "SELECT * FROM NOPE;", "SHOW STREAMS;",
       "DESCRIBE F0;", "DROP STREAM F{n};", "TERMINATE ALL;", "EXPLAIN SELECT 1;", "SELECT",
       "'", "\"", ";;;", "CREATE STREAM", "INSERT INTO F0 VALUES ('a', 1);", "SET 'a'='b';",
       "SHOW QUERIES; SHOW TOPICS; SHOW PROPERTIES; SHOW TYPES; LIST TABLES;",
       "SELECT * FROM F0 WHERE V = 'x' EMIT CHANGES;", "\u0000\u00ff\ud7ff", "x" * 5000,
       "CREATE TABLE T{n} AS SELECT K, COUNT(*) FROM F0 GROUP BY K;",
       "CREATE TABLE W{n} AS SELECT K, COUNT(*) AS C FROM F0 WINDOW TUMBLING (SIZE 1 SECOND) "
       "GROUP BY K;",
       "SELECT * FROM T{n} WHERE K = 'a';", "SELECT * FROM T{n} WHERE K IN ('a', NULL, 1);",
       "SELECT * FROM W{n} WHERE WINDOWSTART > 0 AND K > 'a' LIMIT 3;", "SELECT * FROM T{n};",
       "SELECT K, COUNT(*) FROM T{n} GROUP BY K;", "SELECT * FROM F{n};"]


def random_value(rng, depth=0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1e308, -0.0, 3.5])
    if kind == 3:
        return rng.choice(SQL).format(n=rng.randrange(5))
    if kind == 4:
        return "".join(chr(rng.randrange(1, 0x2fff)) for _ in range(rng.randrange(20)))
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["ksql", "sql", "queryId", "streamsProperties", "properties", "target",
                        "x"]): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def inserts_body(rng):
    """An /inserts-stream body: a target line (sometimes broken), then rows (some broken)."""
    target = rng.choice([{"target": "F0"}, {"target": "f1"}, {"target": "T0"}, {"target": 3},
                         {"target": "NOPE"}, random_value(rng)])
    lines = [json.dumps(target)]
    for _ in range(rng.randrange(6)):
        if rng.randrange(3) == 0:
            lines.append(json.dumps(random_value(rng)))
        else:
            lines.append(json.dumps({"K": random_value(rng), "V": rng.choice([1, "x", None, 2.5]),
                                     rng.choice(["ROWTIME", "v", "Z"]): random_value(rng)}))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def random_body(rng):
    kind = rng.randrange(8)
    if kind == 7:
        return inserts_body(rng)
    if kind == 0:
        return b""
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if kind == 2:
        text = json.dumps({"ksql": rng.choice(SQL).format(n=rng.randrange(5)),
                           "streamsProperties": random_value(rng)})
        return text.encode()
    if kind == 3:
        text = json.dumps({"sql": rng.choice(SQL).format(n=rng.randrange(5)),
                           "properties": random_value(rng)})
        return text.encode()
    if kind == 4:
        text = json.dumps(random_value(rng))
        cut = rng.randrange(len(text) + 1)
        return text[:cut].encode()  # truncated JSON
    if kind == 5:
        return b"[" * rng.randrange(1, 5000)  # deep nesting
    return json.dumps(random_value(rng)).encode("utf-8", "surrogatepass")


def main():
    sidestream = sys.argv[1]
    seed = int(os.environ.get("SERVE_FUZZ_SEED", time.time_ns() % 100000))
    rounds = int(os.environ.get("SERVE_FUZZ_ROUNDS", "400"))
    rng = random.Random(seed)
    print(f"seed {seed}, {rounds} requests per protocol")
    work = tempfile.mkdtemp()
    log = os.path.join(work, "serve.out")
    out = open(log, "w")
    server = subprocess.Popen([sidestream, "serve", "--port", "0", "--set",
                               "max.body.bytes=65536", "--set", "max.push.queries=4"],
                              stdout=out, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(100):
            with open(log) as f:
                found = re.search(r"http://127\.0\.0\.1:(\d+)", f.read())
            if found:
                port = int(found.group(1))
                break
            if server.poll() is not None:
                break
            time.sleep(0.1)
        if port is None:
            print("FAILED: serve did not start:", open(log).read()[-2000:])
            return 1
        failures = []
        for i in range(rounds):
            route, method, body = rng.choice(ROUTES), rng.choice(METHODS), random_body(rng)
            headers = {"Content-Type": rng.choice(["application/json", "text/plain", "x/y"]),
                       "Accept": rng.choice(["application/json", "*/*", "x/y",
                                             "application/vnd.ksqlapi.delimited.v1"])}
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                connection.request(method, route, body=body, headers=headers)
                response = connection.getresponse()
                response.read(1 << 20)  # push queries stream: read what came, then hang up
                status = response.status
                connection.close()
            except (TimeoutError, OSError, http.client.HTTPException) as error:
                if server.poll() is not None:
                    failures.append(f"server died at {method} {route} {body[:80]!r}")
                    break
                if isinstance(error, TimeoutError) and route in ("/query", "/query-stream"):
                    continue  # an open push query streams until the client leaves
                failures.append(f"{method} {route} {body[:80]!r}: {error!r}")
                continue
            if status >= 500:
                failures.append(f"{method} {route} {body[:80]!r}: {status}")
        if shutil.which("curl"):
            for i in range(rounds // 4):
                route, method, body = rng.choice(ROUTES), rng.choice(METHODS), random_body(rng)
                path = os.path.join(work, "body")
                with open(path, "wb") as f:
                    f.write(body)
                command = ["curl", "-s", "--http2-prior-knowledge", "-m", "10", "-o", os.devnull,
                           "-w", "%{http_code}", f"http://127.0.0.1:{port}{route}"]
                # HEAD through --head: with -X HEAD curl waits for the body it announced.
                command += ["--head"] if method == "HEAD" else [
                    "-X", method, "--data-binary", "@" + path]
                result = subprocess.run(command, capture_output=True, text=True)
                if server.poll() is not None:
                    failures.append(f"server died at h2 {method} {route} {body[:80]!r}")
                    break
                code = result.stdout.strip()
                if result.returncode == 28 and route in ("/query", "/query-stream"):
                    continue  # a push query that streamed until curl's time limit
                if code.startswith("5") or (result.returncode not in (0, 28) and code == "000"):
                    failures.append(f"h2 {method} {route} {body[:80]!r}: {code} "
                                    f"(curl exit {result.returncode})")
        if server.poll() is not None and not any("died" in f for f in failures):
            failures.append("server exited")
        for failure in failures:
            print("FAILED:", failure)
        if failures:
            with open(log) as f:
                print("--- serve output\n" + f.read()[-3000:])
            return 1
        print(f"PASSED: no 5xx, no crash (seed {seed})")
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
