#!/usr/bin/env python3
"""The yardsticks of `sidestream serve` (issue 14), each beside a ceiling measured in the same run:

  healthcheck  GET /healthcheck rate, HTTP/1.1 (wrk) and HTTP/2 (h2load, one connection per
               client, 10 streams each), against bench/http_ceiling_server: libh2o on one thread
               answering the same bytes at once (no routing, no task queue). Target: 50k/s.
  pull         p50/p99 of pull queries by key on a table of N keys (default 1M: a CTAS COUNT(*)
               GROUP BY over N callers) at a fixed 10k requests/s (bench/serve_load, open loop),
               beside GET /info at the same rate on the same server. Target: p99 under 2 ms.
  push         produce -> client latency of a push query on a CSAS's sink (one row every 20 ms,
               each carrying its send time; HTTP/1.1 /query-stream): the tap (push.v2) and the
               query of its own (ksql.query.push.v2.enabled=false), beside the broker's own
               floor (kcat consuming the input topic). Target: p50 under 50 ms.
  rss          VmRSS of an idle `serve` (no query), with its embedded broker and against an
               external one (`sidestream broker`). Target: under 30 MB.

Each measurement runs RUNS times (3; 1 with --quick) and reports the median.
Usage: serve_bench.py SIDESTREAM BENCH_BIN_DIR [--quick] [--only healthcheck,pull,push,rss]"""
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
import threading
import time
import urllib.request

WORK = tempfile.mkdtemp()


def start(argv, pattern, log_name):
    log = os.path.join(WORK, log_name)
    process = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    for _ in range(300):
        found = re.search(pattern, open(log).read())
        if found:
            return process, found
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{argv[0]} did not start: {open(log).read()[-500:]}")


def start_serve(sidestream, *settings):
    argv = [sidestream, "serve", "--port", "0"]
    for setting in settings:
        argv += ["--set", setting]
    process, found = start(argv, r"listening on http://127\.0\.0\.1:(\d+)", "serve.out")
    port = int(found.group(1))
    text = open(os.path.join(WORK, "serve.out")).read()
    bootstrap = re.search(r"bootstrap\.servers=(\S+)", text)
    return process, port, bootstrap.group(1) if bootstrap else None


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def metric_sum(port, prefix):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def median(values):
    return statistics.median(values) if values else float("nan")


def healthcheck(sidestream, bench_dir, runs, seconds):
    serve, serve_port, _ = start_serve(sidestream)
    ceiling, found = start([os.path.join(bench_dir, "http_ceiling_server"), "0"],
                           r"listening on http://127\.0\.0\.1:(\d+)", "ceiling.out")
    ceiling_port = int(found.group(1))
    results = {}
    try:
        def wrk(port):
            out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s",
                                  f"http://127.0.0.1:{port}/healthcheck"],
                                 capture_output=True, text=True, check=True).stdout
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            assert not errors, out
            return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

        def h2load(port):
            out = subprocess.run(["h2load", "-t1", "-c8", "-m10", "-D", str(seconds),
                                  f"http://127.0.0.1:{port}/healthcheck"],
                                 capture_output=True, text=True, check=True).stdout
            assert re.search(r"\d+ succeeded, 0 failed", out), out
            return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))

        if shutil.which("wrk") is None:
            print("healthcheck: wrk is missing (scripts/install-deps.sh installs it): HTTP/1.1 skipped")
        for name, tool in (("HTTP/1.1 wrk -t1 -c32", wrk if shutil.which("wrk") else None),
                           ("HTTP/2 h2load -t1 -c8 -m10", h2load if shutil.which("h2load") else None)):
            if tool is None:
                continue
            serve_rates, ceiling_rates = [], []
            for _ in range(runs):
                serve_rates.append(tool(serve_port))
                ceiling_rates.append(tool(ceiling_port))
            results[name] = (median(serve_rates), median(ceiling_rates))
            print(f"GET /healthcheck {name:28s} serve {median(serve_rates):9.0f} req/s   ceiling "
                  f"{median(ceiling_rates):9.0f} req/s   ratio {median(serve_rates) / median(ceiling_rates):.2f}"
                  f"   (serve runs {[round(r) for r in serve_rates]})")
    finally:
        stop(serve)
        stop(ceiling)
    return results


def pull(sidestream, bench_dir, runs, keys, seconds, rate):
    serve, port, bootstrap = start_serve(sidestream, "commit.interval.ms=1000")
    try:
        status, body = post(port, "/ksql", {"ksql": (
            "CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) WITH (kafka_topic='calls', "
            "value_format='JSON', partitions=4); CREATE TABLE TOTALS AS SELECT CALLER, "
            "COUNT(*) AS N, SUM(SECS) AS SECS FROM CALLS GROUP BY CALLER;")})
        assert status == 200, body
        data = os.path.join(WORK, "calls.txt")
        with open(data, "w") as f:
            for i in range(keys):
                f.write(f'c{i}:{{"SECS":{i % 100}}}\n')
        started = time.time()
        subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "calls", "-K:", "-l", data], check=True)
        deadline = time.time() + 1800
        while metric_sum(port, "sidestream_query_records_consumed_total") < keys:
            assert time.time() < deadline, "the table was not loaded in 30 minutes"
            time.sleep(1)
        print(f"pull: {keys} keys loaded in {time.time() - started:.1f} s; serve RSS "
              f"{rss_mb(serve.pid):.0f} MB")
        status, body = post(port, "/query", {"ksql": f"SELECT * FROM TOTALS WHERE CALLER='c{keys - 1}';"})
        assert status == 200 and b'"row"' in body, body

        def load(method, path, body=""):
            argv = [os.path.join(bench_dir, "serve_load"), str(port), method, path, str(rate),
                    str(seconds), "16"]
            if body:
                argv += [body, str(keys)]
            return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)

        lookup = json.dumps({"ksql": "SELECT * FROM TOTALS WHERE CALLER='c%d';"})
        pulls, infos = [], []
        for _ in range(runs):
            pulls.append(load("POST", "/query", lookup))
            infos.append(load("GET", "/info"))
        for name, samples in (("pull by key", pulls), ("GET /info (ceiling)", infos)):
            failures = sum(s["failures"] for s in samples)
            print(f"{name:22s} at {rate}/s: achieved {median([s['rate'] for s in samples]):8.0f}/s   "
                  f"p50 {median([s['p50_ms'] for s in samples]):6.2f} ms   p99 "
                  f"{median([s['p99_ms'] for s in samples]):6.2f} ms   p99.9 "
                  f"{median([s['p999_ms'] for s in samples]):6.2f} ms   failures {failures}")
        return pulls, infos
    finally:
        stop(serve)


class PushReader(threading.Thread):
    """Reads a /query-stream response line by line; each row's SENT (µs) gives a latency."""

    def __init__(self, port, sql, properties):
        super().__init__(daemon=True)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.connection.request("POST", "/query-stream",
                                body=json.dumps({"sql": sql, "properties": properties}))
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        self.header = self.response.readline()
        self.latencies = []
        self.rows = 0

    def run(self):
        try:
            for line in self.response:
                now = time.time_ns() // 1000
                row = json.loads(line)
                if isinstance(row, list):
                    self.rows += 1
                    self.latencies.append((now - row[-1]) / 1000)
        except Exception:  # the connection closed
            pass


def push_once(bootstrap, readers_or_kcat, count, interval):
    producer = subprocess.Popen(["kcat", "-b", bootstrap, "-P", "-t", "calls", "-K:", "-X",
                                 "linger.ms=0"], stdin=subprocess.PIPE, text=True)
    try:
        for i in range(count):
            producer.stdin.write(f'k{i}:{{"SENT":{time.time_ns() // 1000}}}\n')
            producer.stdin.flush()
            time.sleep(interval)
    finally:
        producer.stdin.close()
        producer.wait()


def push(sidestream, runs, count, interval):
    serve, port, bootstrap = start_serve(sidestream)
    results = {}
    try:
        status, body = post(port, "/ksql", {"ksql": (
            "CREATE STREAM CALLS (K STRING KEY, SENT BIGINT) WITH (kafka_topic='calls', "
            "value_format='JSON', partitions=1); CREATE STREAM COPY AS SELECT * FROM CALLS;")})
        assert status == 200, body
        # Warm up: the CSAS has its partition and its first record through.
        push_once(bootstrap, None, 20, 0.05)
        deadline = time.time() + 120
        while metric_sum(port, "sidestream_query_records_produced_total") < 20:
            assert time.time() < deadline
            time.sleep(0.2)
        for name, properties in (("tap (push v2)", {}),
                                 ("query of its own", {"ksql.query.push.v2.enabled": "false"})):
            medians, p99s = [], []
            for _ in range(runs):
                reader = PushReader(port, "SELECT K, SENT FROM COPY EMIT CHANGES;", properties)
                reader.start()
                # A query of its own joins its groups before its first row: wait for one.
                deadline = time.time() + 120
                while reader.rows == 0 and time.time() < deadline:
                    push_once(bootstrap, None, 1, 0)
                    time.sleep(0.5)
                reader.latencies.clear()
                push_once(bootstrap, None, count, interval)
                time.sleep(1)
                samples = sorted(reader.latencies)
                reader.connection.close()
                if samples:
                    medians.append(samples[len(samples) // 2])
                    p99s.append(samples[min(len(samples) - 1, int(len(samples) * 0.99))])
            results[name] = (median(medians), median(p99s))
            print(f"push {name:18s} produce->client p50 {median(medians):7.2f} ms   p99 "
                  f"{median(p99s):7.2f} ms   ({count} rows every {interval * 1000:.0f} ms, runs {[round(m, 1) for m in medians]})")
        # The floor: kcat consuming the input topic (one produce -> fetch hop, no engine).
        medians = []
        for _ in range(runs):
            consumer = subprocess.Popen(["kcat", "-b", bootstrap, "-C", "-t", "calls", "-o", "end",
                                         "-u", "-f", "%s\n", "-X", "fetch.wait.max.ms=5"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            latencies = []

            def read():
                for line in consumer.stdout:
                    now = time.time_ns() // 1000
                    latencies.append((now - json.loads(line)["SENT"]) / 1000)
            reading = threading.Thread(target=read, daemon=True)
            reading.start()
            time.sleep(2)
            latencies.clear()
            push_once(bootstrap, None, count, interval)
            time.sleep(1)
            consumer.terminate()
            consumer.wait()
            samples = sorted(latencies)
            if samples:
                medians.append(samples[len(samples) // 2])
        results["floor"] = (median(medians), None)
        print(f"push floor (kcat -C on the input, fetch.wait.max.ms=5) p50 {median(medians):7.2f} ms")
    finally:
        stop(serve)
    return results


def rss(sidestream, runs):
    values = {"embedded broker": [], "external broker": []}
    for _ in range(runs):
        serve, _, _ = start_serve(sidestream)
        time.sleep(3)
        values["embedded broker"].append(rss_mb(serve.pid))
        stop(serve)
        # `sidestream-broker` (beside `sidestream`): the embedded broker in a process of its own.
        broker_binary = os.path.join(os.path.dirname(sidestream), "sidestream-broker")
        broker, found = start([broker_binary], r"bootstrap\.servers=(\S+)", "broker.out")
        serve, _, _ = start_serve(sidestream, f"bootstrap.servers={found.group(1)}")
        time.sleep(3)
        values["external broker"].append(rss_mb(serve.pid))
        stop(serve)
        stop(broker)
    for name, samples in values.items():
        print(f"idle serve RSS, {name:16s} {median(samples):6.1f} MB   (runs {[round(s, 1) for s in samples]})")
    return values


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    sidestream, bench_dir = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    only = "healthcheck,pull,push,rss"
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
    runs = 1 if quick else 3
    try:
        if "rss" in only:
            rss(sidestream, runs)
        if "healthcheck" in only:
            healthcheck(sidestream, bench_dir, runs, 3 if quick else 5)
        if "push" in only:
            push(sidestream, runs, 50 if quick else 200, 0.02)
        if "pull" in only:
            pull(sidestream, bench_dir, runs, 100000 if quick else 1000000, 3 if quick else 10, 10000)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
