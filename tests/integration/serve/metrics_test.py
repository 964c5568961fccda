#!/usr/bin/env python3
"""`GET /metrics` read back through a real Prometheus: starts `sidestream serve` on the
embedded broker with a stream, a filter (CSAS) and a windowed count (CTAS), produces records
with kcat (a late one and one that does not decode among them), lets Prometheus (Debian's
package) scrape the server every second, and checks values through its query API. Then runs
every PromQL expression of deploy/grafana/sidestream.json against it: each must return
series, some with a number (not NaN).
Exit 77 (skipped) when prometheus, kcat or curl is missing.
Usage: metrics_test.py SIDESTREAM DASHBOARD_JSON"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

DEADLINE_S = 90
# Grafana's variables, as the dashboard would set them (every query, a 30 s rate window).
GRAFANA_VARIABLES = {"$__rate_interval": "30s", "$__interval": "15s", "$__range": "5m",
                     "$query_id": ".*"}


def fail(message, work=None):
    print("FAILED: " + message)
    if work:
        for name in ("serve.err", "prometheus.err"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print(f"--- {name}")
                print("".join(open(path, errors="replace").readlines()[-20:]))
    sys.exit(1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url, body=None):
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def ksql(base, statement):
    status, _, body = http(base + "/ksql", json.dumps({"ksql": statement}))
    if status != 200:
        raise RuntimeError(f"{statement} -> {status} {body}")
    return body


def promql(prometheus, expression):
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    _, _, body = http(url)
    answer = json.loads(body)
    if answer.get("status") != "success":
        raise RuntimeError(f"{expression}: {body}")
    return answer["data"]["result"]


def wait_for(what, check, work):
    """Calls check() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + DEADLINE_S
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, RuntimeError, ValueError) as error:
            last = error
        time.sleep(0.5)
    fail(f"{what}: still {last!r} after {DEADLINE_S} s", work)


def value(prometheus, expression):
    """The single value of an instant query, or None when it has no result."""
    result = promql(prometheus, expression)
    if len(result) != 1:
        return None
    return float(result[0]["value"][1])


def produce(bootstrap, records, topic="input", keyed=True):
    subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", topic] + (["-K:"] if keyed else []),
                   input="\n".join(records) + "\n", text=True, check=True, timeout=30)


def has_number(series):
    """Whether some series of an instant query's result has a value that is not NaN."""
    return any(item["value"][1] != "NaN" for item in series)


def dashboard_expressions(path):
    dashboard = json.load(open(path))
    expressions = []

    def visit(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                expressions.append((panel["title"], target["expr"]))
            visit(panel.get("panels", []))

    visit(dashboard["panels"])
    # The query_id variable lists a metric's label values: that metric must exist.
    for variable in dashboard.get("templating", {}).get("list", []):
        found = re.match(r"label_values\((\w+),", variable.get("definition", ""))
        if found:
            expressions.append(("variable " + variable["name"], found.group(1)))
    return expressions


def main():
    sidestream, dashboard = sys.argv[1], sys.argv[2]
    for tool in ("prometheus", "kcat", "redis-server"):
        if shutil.which(tool) is None:
            print(f"SKIPPED: {tool} is not installed (Debian: apt-get install {tool})")
            return 77
    work = tempfile.mkdtemp()
    processes = []
    try:
        # A Redis for a sink connector, so that the connector metrics have a live connector.
        redis_port = free_port()
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", work],
            stdout=open(os.path.join(work, "redis.log"), "w"), stderr=subprocess.STDOUT))
        serve = subprocess.Popen([sidestream, "serve", "--port", "0"],
                                 stdout=open(os.path.join(work, "serve.out"), "w"),
                                 stderr=open(os.path.join(work, "serve.err"), "w"))
        processes.append(serve)

        def address():
            if serve.poll() is not None:
                fail("serve exited at start", work)
            text = open(os.path.join(work, "serve.out")).read()
            found = re.search(r"listening on (http://[0-9.:]+)", text)
            return found and (found.group(1), re.search(r"bootstrap.servers=(\S+)", text).group(1))

        base, bootstrap = wait_for("serve's address", address, work)

        ksql(base, "CREATE STREAM INPUT (K STRING KEY, ID INT, TS BIGINT) WITH "
                   "(kafka_topic='input', value_format='JSON', partitions=1, timestamp='TS');")
        ksql(base, "CREATE STREAM OUT AS SELECT K, ID FROM INPUT WHERE ID > 0;")
        ksql(base, "CREATE TABLE COUNTS AS SELECT K, COUNT(*) AS N FROM INPUT "
                   "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY K;")
        ksql(base, "CREATE SINK CONNECTOR COUNTS_REDIS WITH ('connector.class'='redis', "
                   f"'topics'='COUNTS', 'redis.url'='redis://127.0.0.1:{redis_port}', "
                   "'redis.key.template'='count:{KEY}');")
        # A table whose second row has no key: dropped, and counted by reason.
        ksql(base, "CREATE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING) WITH "
                   "(kafka_topic='users', value_format='JSON', partitions=1);")
        ksql(base, "CREATE TABLE USER_NAMES AS SELECT ID, NAME FROM USERS;")
        produce(bootstrap, ['u1:{"NAME":"ann"}'], topic="users")
        produce(bootstrap, ['{"NAME":"no key"}'], topic="users", keyed=False)
        # Event times a minute ago; the third record is late for the windowed count (its
        # window closed when stream time moved 30 s on), the fourth does not decode.
        now_ms = int(time.time() * 1000) // 10000 * 10000
        records = [f'a:{{"ID":1,"TS":{now_ms - 60000}}}', f'b:{{"ID":2,"TS":{now_ms - 30000}}}',
                   f'a:{{"ID":3,"TS":{now_ms - 60000}}}', 'c:not json',
                   f'b:{{"ID":4,"TS":{now_ms - 29000}}}']
        produce(bootstrap, records)

        status, content_type, text = http(base + "/metrics")
        if status != 200 or not content_type.startswith("text/plain; version=0.0.4"):
            fail(f"/metrics -> {status} {content_type}", work)

        prometheus_port = free_port()
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: sidestream\n    static_configs:\n"
                    f"      - targets: ['{base[len('http://'):]}']\n")
        processes.append(subprocess.Popen(
            ["prometheus", "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
             f"--web.listen-address=127.0.0.1:{prometheus_port}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.err"), "w")))
        prometheus = f"http://127.0.0.1:{prometheus_port}"

        out = 'query_id=~"CSAS_OUT_?[0-9]*"'
        counts = 'query_id=~"CTAS_COUNTS_?[0-9]*"'
        names = 'query_id=~"CTAS_USER_NAMES_?[0-9]*"'
        wait_for("the target is up", lambda: value(prometheus, 'up{job="sidestream"}') == 1,
                 work)
        # More records while Prometheus scrapes, so that the dashboard's rates and latency
        # quantiles have something to show.
        produce(bootstrap, [f'c:{{"ID":{i},"TS":{now_ms - 30000 + 1000 * i}}}' for i in (5, 6, 7)])
        # Every record was read by both queries, and Prometheus holds that value.
        for query in (out, counts):
            wait_for(f"records in for {query}", lambda: value(
                prometheus, f"sidestream_query_records_consumed_total{{{query}}}") == 8, work)
        checks = [
            # Seven results and one dead-lettered record.
            (f"sidestream_query_records_produced_total{{{out}}}", lambda v: v == 8),
            (f'sidestream_query_dead_letter_records_total{{{out},reason="decode_error"}}',
             lambda v: v == 1),
            (f'sidestream_query_dead_letter_records_total{{{out},reason="oversized"}}',
             lambda v: v == 0),
            (f"sidestream_query_decode_errors_total{{{counts}}}", lambda v: v == 1),
            (f"sidestream_query_late_records_total{{{counts}}}", lambda v: v == 1),
            (f"sidestream_query_late_records_total{{{out}}}", lambda v: v == 0),
            (f"sidestream_query_records_consumed_total{{{names}}}", lambda v: v == 2),
            (f'sidestream_query_dropped_records_total{{{names},reason="null_table_key"}}',
             lambda v: v == 1),
            (f'sidestream_query_dropped_records_total{{{counts},reason="null_table_key"}}',
             lambda v: v == 0),
            (f"sidestream_query_state_store_entries{{{counts}}}", lambda v: v >= 1),
            (f"sidestream_query_state_store_bytes{{{counts}}}", lambda v: v >= 64),
            (f"sidestream_query_restoring_tasks{{{counts}}}", lambda v: v == 0),
            (f"sidestream_query_restore_remaining_records{{{counts}}}", lambda v: v == 0),
            (f'sidestream_query_consumer_lag_records{{{out},topic="input",partition="0"}}',
             lambda v: v == 0),
            (f"sidestream_query_watermark_lag_seconds{{{counts}}}", lambda v: 0 < v < 3600),
            (f'sidestream_query_state{{{out},state="RUNNING"}}', lambda v: v == 1),
            (f'sidestream_query_state{{{out},state="ERROR"}}', lambda v: v == 0),
            (f"sidestream_query_processing_latency_seconds_count{{{out}}}", lambda v: v >= 1),
            ('sidestream_rest_requests_total{route="/ksql",status="200"}', lambda v: v == 6),
            # The connector wrote the table's rows to Redis and caught up.
            ('sidestream_connector_records_total{connector="COUNTS_REDIS",outcome="upserted"}',
             lambda v: v >= 1),
            ('sidestream_connector_records_total{connector="COUNTS_REDIS",outcome="dead_lettered"}',
             lambda v: v == 0),
            ('sum(sidestream_connector_lag_records{connector="COUNTS_REDIS"})', lambda v: v == 0),
            ('sidestream_connector_state{connector="COUNTS_REDIS",state="RUNNING"}',
             lambda v: v == 1),
            ('sidestream_rest_requests_total{route="/metrics",status="200"}', lambda v: v >= 1),
            ("sidestream_commits_total", lambda v: v >= 1),
            ("sidestream_commit_latency_seconds_count", lambda v: v >= 1),
            ("sidestream_rebalances_total", lambda v: v >= 2),
            ("sidestream_stream_threads", lambda v: v == 1),
            # No num.standby.replicas: exported, and zero (the scale-out test counts copies).
            ("sidestream_standby_tasks", lambda v: v == 0),
            ("sidestream_standby_records_total", lambda v: v == 0),
            ("sidestream_push_queries_open", lambda v: v == 0),
        ]
        for expression, expected in checks:
            wait_for(expression, lambda: (lambda v: v is not None and expected(v))(
                value(prometheus, expression)), work)
            print(f"ok {expression} = {value(prometheus, expression)}")

        # Every expression of the dashboard returns series, and some series a number: a latency
        # quantile over no observations would be NaN. Rates need two samples in their window,
        # so each expression gets until the deadline.
        for title, expression in dashboard_expressions(dashboard):
            for name, replacement in GRAFANA_VARIABLES.items():
                expression = expression.replace(name, replacement)
            result = wait_for(f"dashboard panel '{title}': {expression}", lambda: (
                lambda series: series if has_number(series) else None)(
                    promql(prometheus, expression)), work)
            print(f"ok [{title}] {expression} -> {len(result)} series")
        if serve.poll() is not None:
            fail("serve died", work)
        print("PASSED")
        return 0
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
