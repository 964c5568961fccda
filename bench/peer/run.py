#!/usr/bin/env python3
"""Sidestream and Kafka Streams side by side: W2 and W3 on one real Kafka broker, same data.

Starts a real Apache Kafka broker (tests/integration/real_kafka: fetch.sh, start.sh, stop.sh),
writes N generated CDRs per workload into an input topic (bench/cdr_produce), then R times per
workload runs the Kafka Streams app (bench/kstreams, PeerApp) and `sidestream run` with the
workload's statement (workloads_bench --sql) over that topic, each into its own output topic.
Prints one JSON line per engine and workload (medians, the runs) and one with the ratio, and
writes them all to --out. The broker is stopped at the end, whatever happens.

How each engine is measured (records = the N input records):
- cpu_seconds: Kafka Streams reports its own (OperatingSystemMXBean process CPU from just before
  start() to the end of close(): JVM start-up is left out, every JVM thread is counted).
  Sidestream's is its whole process (utime + stime from /proc, sampled every 50 ms), taken at
  the first sample after its last result reached the broker.
- wall_seconds: for both, the time between the first and the last result appended to the output
  topic, which is created with message.timestamp.type=LogAppendTime so that the broker stamps
  each result when it arrives (same clock for both engines).
Both engines run at-least-once, Kafka Streams on RocksDB stores and Sidestream in memory (each
one's default); --exactly-once runs both under exactly_once_v2 (commits every 100 ms, both
defaults) and Sidestream on RocksDB stores too, so that both do the same work.
Exit: 0 ok; 1 failure; 77 skipped (no Java, Maven or broker to be had; the reason is printed).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REAL_KAFKA = os.path.join(ROOT, "tests", "integration", "real_kafka")
KSTREAMS = os.path.join(ROOT, "bench", "kstreams")
RELEASE = os.path.join(ROOT, "build", "release")
CLASSPATH = os.path.join(KSTREAMS, "target", "classes") + ":" + os.path.join(
    KSTREAMS, "target", "lib", "*")
PARTITIONS = 4  # as queries/sources/cdr.sql declares
RUN_TIMEOUT_S = 900

# Workload -> the workloads_bench statement and how the input is generated. Sidestream runs
# W2 as two stages (a repartition topic by cell_id, then the aggregate), so it consumes every
# record twice; W3 groups by the message key and runs as one.
WORKLOADS = {
    "W2": {"sql_of": "W2-changes", "subscribers": 5000, "distinct_callers_first": False,
           "stages": 2},
    "W3": {"sql_of": "W3", "subscribers": 1_000_000, "distinct_callers_first": True,
           "stages": 1},
}


class Skip(Exception):
    """Something the benchmark needs cannot be had here; the message says what."""


def log(message):
    print(f"peer: {message}", file=sys.stderr, flush=True)


def run(command, timeout=600, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, timeout=timeout,
                          **kwargs)


def build():
    """Release binaries (incremental) and the Kafka Streams app with its classpath."""
    for tool in ("java", "mvn", "kcat"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            raise Skip(f"{tool} is not installed")
    if subprocess.run(["bash", "scripts/build-release.sh", "sidestream", "cdr_produce",
                       "workloads_bench", "kafka_consume_bench"], cwd=ROOT,
                      stdout=subprocess.DEVNULL).returncode:
        raise RuntimeError("building the release binaries failed")
    maven = subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never", "package"], cwd=KSTREAMS,
                           capture_output=True, text=True)
    if maven.returncode:
        output = maven.stdout + maven.stderr
        if re.search(r"Could not (resolve|transfer)|UnknownHost|Connect", output):
            raise Skip("Maven could not fetch kafka-streams: " + output.strip()[-400:])
        raise RuntimeError("building bench/kstreams failed:\n" + output[-2000:])


def topics(bootstrap, *arguments):
    run(["java", "-cp", CLASSPATH, "dev.sidestream.bench.kstreams.Topics", bootstrap,
         *arguments], timeout=120)


def output_stats(bootstrap, topic, transactional=False):
    """Seconds between the first and the last broker append time (LogAppendTime) over the
    topic's partitions, and the number of results (the topic is new: offsets start at 0).
    `transactional`: written through transactions, whose commit markers take offsets (the last
    one among them) and are never read: every result is read and counted instead."""
    firsts, lasts, results = [], [], 0
    for partition in range(PARTITIONS):
        if transactional:
            times = run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-p", str(partition), "-o",
                         "beginning", "-e", "-q", "-f", "%T\n"], timeout=300).stdout.split()
            if times:
                firsts.append(int(times[0]))
                lasts.append(int(times[-1]))
                results += len(times)
            continue
        first = run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-p", str(partition), "-o",
                     "beginning", "-c", "1", "-e", "-q", "-f", "%T\\n"], timeout=60).stdout.split()
        last = run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-p", str(partition), "-o", "-1",
                    "-c", "1", "-e", "-q", "-f", "%T %o\\n"], timeout=60).stdout.split()
        firsts.extend(int(value) for value in first)
        if last:
            lasts.append(int(last[0]))
            results += int(last[1]) + 1
    if not firsts:
        raise RuntimeError(f"no results in {topic}")
    return (max(lasts) - min(firsts)) / 1000.0, max(lasts) / 1000.0, results


def run_kafka_streams(bootstrap, workload, input_topic, records, run_id, work, exactly_once):
    output = f"ks_{workload.lower()}_{run_id}"
    state_dir = os.path.join(work, "kstreams-state", output)
    with open(os.path.join(work, f"{output}.log"), "w") as stderr:
        result = subprocess.run(
            ["java", "-Xms1g", "-Xmx1g", "-cp", CLASSPATH, "dev.sidestream.bench.kstreams.PeerApp",
             "--workload", workload, "--bootstrap-servers", bootstrap, "--input", input_topic,
             "--output", output, "--records", str(records), "--application-id",
             f"ks-{workload.lower()}-{run_id}", "--state-dir", state_dir,
             "--processing-guarantee", "exactly_once_v2" if exactly_once else "at_least_once"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=RUN_TIMEOUT_S + 120)
    if result.returncode:
        raise RuntimeError(f"Kafka Streams {workload} run {run_id} failed; see {stderr.name}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["self_reported_wall_seconds"] = report.pop("wall_seconds")
    report["wall_seconds"], _, report["results"] = output_stats(bootstrap, output, exactly_once)
    report["records_per_s"] = records / report["wall_seconds"]
    return report


def process_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_sidestream(bootstrap, workload, input_topic, records, run_id, work, exactly_once):
    spec = WORKLOADS[workload]
    name = f"ss_{workload.lower()}_{run_id}"
    statement = run([os.path.join(RELEASE, "bench", "workloads_bench"), "--sql",
                     spec["sql_of"]]).stdout.strip()
    statement = re.sub(r"^CREATE TABLE \w+ AS",
                       f"CREATE TABLE {name} WITH (KAFKA_TOPIC='{name}') AS", statement)
    with open(os.path.join(ROOT, "queries", "sources", "cdr.sql")) as source:
        source_sql = source.read().replace("KAFKA_TOPIC='cdr'", f"KAFKA_TOPIC='{input_topic}'")
    sql_path = os.path.join(work, f"{name}.sql")
    with open(sql_path, "w") as sql_file:
        sql_file.write(source_sql + "\n" + statement + "\n")

    expected = records * spec["stages"]
    err_path = os.path.join(work, f"{name}.log")
    command = [os.path.join(RELEASE, "server", "sidestream"), "run", sql_path,
               "--bootstrap-servers", bootstrap]
    if exactly_once:
        command += ["--processing-guarantee", "exactly_once_v2", "--state-store", "rocksdb",
                    "--state-dir", os.path.join(work, "sidestream-state", name)]
    with open(err_path, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    samples = []  # (wall time, process CPU seconds)
    consumed = 0
    deadline = time.time() + RUN_TIMEOUT_S
    try:
        # `sidestream run` prints "consumed C, produced P, ..." every 5 s; all N records are
        # through every stage when C reaches N x stages.
        while consumed < expected:
            if process.poll() is not None:
                raise RuntimeError(f"sidestream exited with {process.returncode}; see {err_path}")
            if time.time() > deadline:
                raise RuntimeError(f"sidestream consumed {consumed} of {expected} in "
                                   f"{RUN_TIMEOUT_S} s; see {err_path}")
            samples.append((time.time(), process_cpu_seconds(process.pid)))
            with open(err_path) as progress:
                counts = re.findall(r"^consumed (\d+),", progress.read(), re.M)
            consumed = int(counts[-1]) if counts else 0
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with open(err_path) as progress:
        stopped = re.search(r"stopped: consumed (\d+), produced (\d+), late (\d+), "
                            r"undecodable (\d+)", progress.read())
    # The last result's append time marks the end of the work; take the CPU at the first
    # sample after it (the process only idles in between).
    wall, end, results = output_stats(bootstrap, name, exactly_once)
    cpu = next((cpu for at, cpu in samples if at >= end), samples[-1][1])
    return {"engine": "sidestream", "workload": workload, "records": records,
            "wall_seconds": wall, "cpu_seconds": cpu,
            "process_cpu_seconds_at_stop": samples[-1][1],
            "records_per_s": records / wall, "records_per_s_per_core": records / cpu,
            "consumed_all_stages": int(stopped.group(1)) if stopped else None,
            "results": results,
            "late_records": int(stopped.group(3)) if stopped else None,
            "undecodable": int(stopped.group(4)) if stopped else None}


def summary(runs, engine, workload, settings):
    def stats(key):
        values = sorted(one[key] for one in runs)
        return {"median": statistics.median(values), "min": values[0], "max": values[-1]}

    return {"engine": engine, "workload": workload, "records": runs[0]["records"],
            "runs": len(runs), "records_per_s": stats("records_per_s"),
            "records_per_s_per_core": stats("records_per_s_per_core"),
            "cpu_seconds": stats("cpu_seconds"), "wall_seconds": stats("wall_seconds"),
            "results": [one["results"] for one in runs],
            "late_records": [one["late_records"] for one in runs], "settings": settings,
            "each_run": runs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages-w2", type=int, default=1_000_000)
    parser.add_argument("--messages-w3", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="W2,W3")
    parser.add_argument("--out", help="also write the JSON lines here")
    parser.add_argument("--exactly-once", action="store_true",
                        help="both engines under exactly_once_v2, both on RocksDB stores")
    args = parser.parse_args()
    messages = {"W2": args.messages_w2, "W3": args.messages_w3}

    # SIGTERM/SIGHUP end the run through the finally below, which stops the broker.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: sys.exit(1))
    cache = os.environ.get("SIDESTREAM_KAFKA_CACHE",
                           os.path.expanduser("~/.cache/sidestream/kafka"))
    work = tempfile.mkdtemp(prefix="sidestream-peer.")
    broker = os.path.join(work, "broker")
    lines = []
    try:
        build()
        fetched = subprocess.run(["bash", os.path.join(REAL_KAFKA, "fetch.sh"), cache],
                                 capture_output=True, text=True)
        if fetched.returncode in (3, 4):
            raise Skip("cannot fetch the Kafka broker: " + fetched.stderr.strip()[-300:])
        if fetched.returncode:
            raise RuntimeError("fetch.sh failed: " + fetched.stderr[-1000:])
        bootstrap = run(["bash", os.path.join(REAL_KAFKA, "start.sh"), cache, broker],
                        env=dict(os.environ, SIDESTREAM_KAFKA_WATCH_PID=str(os.getpid()),
                                 SIDESTREAM_KAFKA_HEAP="1g")).stdout.strip()
        log(f"broker at {bootstrap}; work dir {work}")
        for workload in args.workloads.split(","):
            spec, count = WORKLOADS[workload], messages[workload]
            input_topic = f"cdr_{workload.lower()}"
            topics(bootstrap, "create", str(PARTITIONS), input_topic)
            outputs = [f"{engine}_{workload.lower()}_{r}" for r in range(1, args.runs + 1)
                       for engine in ("ks", "ss")]
            topics(bootstrap, "create", str(PARTITIONS), "message.timestamp.type=LogAppendTime",
                   *outputs)
            produced = json.loads(run([os.path.join(RELEASE, "bench", "cdr_produce"),
                                       "--bootstrap-servers", bootstrap, "--topic", input_topic,
                                       "--messages", str(count), "--subscribers",
                                       str(spec["subscribers"]), "--distinct-callers-first",
                                       "true" if spec["distinct_callers_first"] else "false"]
                                      ).stdout)
            log(f"{workload}: {produced}")
            # The Kafka path's ceiling on this broker: the raw consume rate of the same topic.
            consumed = run([os.path.join(RELEASE, "bench", "kafka_consume_bench"),
                            "--bootstrap-servers", bootstrap, input_topic, str(count),
                            str(args.runs)]).stdout
            raw_consume = int(re.search(r"median (\d+) records/s", consumed).group(1))
            log(f"{workload}: raw consume {raw_consume} records/s")
            ks_runs, ss_runs = [], []
            for r in range(1, args.runs + 1):
                ks_runs.append(run_kafka_streams(bootstrap, workload, input_topic, count, r, work,
                                                 args.exactly_once))
                log(f"{workload} run {r} kafka-streams: {ks_runs[-1]}")
                ss_runs.append(run_sidestream(bootstrap, workload, input_topic, count, r, work,
                                              args.exactly_once))
                log(f"{workload} run {r} sidestream: {ss_runs[-1]}")
            ks = summary(ks_runs, "kafka-streams", workload, {
                "version": ks_runs[0]["version"], "stream_threads": 1,
                "cache_max_bytes": ks_runs[0]["cache_max_bytes"],
                "commit_interval_ms": ks_runs[0]["commit_interval_ms"],
                "processing_guarantee": ks_runs[0]["processing_guarantee"],
                "state": "RocksDB + changelog topic", "heap": "-Xms1g -Xmx1g"})
            ss = summary(ss_runs, "sidestream", workload, {
                "threads": 1,
                "processing_guarantee":
                    "exactly_once_v2" if args.exactly_once else "at_least_once",
                "commit": "every 100 ms (a transaction)" if args.exactly_once
                          else "every 2 s, after flushing its results",
                "state": "RocksDB + changelog topics" if args.exactly_once
                         else "in memory + changelog topics"})
            ratio = {"workload": workload, "input": produced,
                     "ratio_per_core": ss["records_per_s_per_core"]["median"]
                     / ks["records_per_s_per_core"]["median"],
                     "ratio_wall": ss["records_per_s"]["median"] / ks["records_per_s"]["median"],
                     "target_per_core": 10, "raw_consume_per_s": raw_consume,
                     "sidestream_wall_ratio_to_raw_consume":
                         ss["records_per_s"]["median"] / raw_consume}
            for line in (ks, ss, ratio):
                lines.append(line)
                print(json.dumps(line), flush=True)
    except Skip as skip:
        line = {"skipped": str(skip)}
        print(json.dumps(line), flush=True)
        lines.append(line)
        return 77
    finally:
        subprocess.run(["bash", os.path.join(REAL_KAFKA, "stop.sh"), broker])
        if args.out:
            with open(args.out, "w") as out:
                out.writelines(json.dumps(line) + "\n" for line in lines)
    subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
