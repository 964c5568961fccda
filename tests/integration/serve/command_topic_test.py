#!/usr/bin/env python3
"""Many instances, one catalog: two `sidestream serve` processes with one service.id and
command.topic.enabled share ksqlDB's command topic on one broker.
- A stream and a CSAS sent to instance A are listed by instance B (SHOW STREAMS, SHOW
  QUERIES), with ksqlDB's commandSequenceNumber (the command's offset) and a query id
  numbered by it; a statement that fails validation never enters the topic.
- Both run the query, each with a share of the input's partitions (one consumer group):
  every input record comes out once, and each instance consumed some of them.
- B restarted with an empty state.dir rebuilds its catalog from the topic before it listens;
  A restarted with its catalog file resumes after the last command it applied, restarts the
  query from the file, and the output stays complete.
- A record in the topic that is not a command fails alone on each instance (counted in
  sidestream_commands_failed_total); a statement sent to B after it (TERMINATE) reaches A.
Modes: `real` runs a real Apache Kafka broker (tests/integration/real_kafka; exit 77, skipped,
without Java, Maven or Maven Central); `embedded` hosts librdkafka's mock cluster in
sidestream-broker, whose group coordinator stalls groups of several members (librdkafka 2.0.2's
mock: tried, no record came out once B joined), so there the query's output is checked while
it runs on A alone, before B starts, and after that only the catalogs are.
Usage: command_topic_test.py SIDESTREAM SIDESTREAM_BROKER REAL_KAFKA_DIR embedded|real"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

DEADLINE_S = 90
SERVICE_ID = "cmdtest"
COMMAND_TOPIC = f"_confluent-ksql-{SERVICE_ID}_command_topic"
RECORDS = 400
PARTITIONS = 4

sidestream, broker_binary, real_kafka_dir, mode = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="command_topic_")
processes = {}  # name -> Popen
broker_work = None


def cleanup():
    global broker_work
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    processes.clear()
    if broker_work:
        subprocess.run(["bash", os.path.join(real_kafka_dir, "stop.sh"), broker_work],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        broker_work = None
    shutil.rmtree(work, ignore_errors=True)


atexit.register(cleanup)  # an unexpected exception leaves nothing running either


def fail(message):
    print("FAILED: " + message)
    for name in sorted(os.listdir(work)):
        if name.endswith(".err") or name.endswith(".out"):
            lines = open(os.path.join(work, name), errors="replace").readlines()
            print(f"--- {name} (last 25 lines)")
            print("".join(lines[-25:]))
    cleanup()
    sys.exit(1)


def failed_with_exception(kind, value, trace):
    traceback.print_exception(kind, value, trace)
    fail(repr(value))


sys.excepthook = failed_with_exception


def skip(message):
    print("SKIPPED: " + message)
    cleanup()
    sys.exit(77)


def wait_for(what, check):
    """Calls check() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + DEADLINE_S
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            last = error
        time.sleep(0.3)
    fail(f"{what}: still {last!r} after {DEADLINE_S} s")


def post(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def ksql(base, statement, properties=None):
    status, body = post(base, "/ksql", {"ksql": statement, "streamsProperties": properties or {}})
    if status != 200:
        raise RuntimeError(f"{statement} -> {status} {body}")
    return body


def names(base, what):
    entity = ksql(base, f"SHOW {what};")[0]
    if what == "QUERIES":
        return {query["id"]: query for query in entity["queries"]}
    return {source["name"] for source in entity[what.lower()]}


def metric(base, name, query_id):
    """The sum of `name`'s samples for query_id on one instance."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and f'query_id="{query_id}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def metric_total(base, name):
    """The value of an unlabelled sample of `name` on one instance; None when absent."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def start_serve(name, state_dir):
    out = open(os.path.join(work, f"{name}.out"), "a")
    err = open(os.path.join(work, f"{name}.err"), "a")
    start = os.path.getsize(out.name)
    process = subprocess.Popen(
        [sidestream, "serve", "--port", "0", "--bootstrap-servers", bootstrap,
         "--set", f"service.id={SERVICE_ID}", "--set", "command.topic.enabled=true",
         "--set", f"state.dir={state_dir}", "--set", "commit.interval.ms=200",
         "--set", "num.stream.threads=1"],
        stdout=out, stderr=err)
    processes[name] = process

    def address():
        if process.poll() is not None:
            fail(f"serve {name} exited at start ({process.returncode})")
        with open(out.name) as text:
            text.seek(start)
            found = re.search(r"http://[0-9.:]+", text.read())
        return found.group(0) if found else None
    return wait_for(f"serve {name} to listen", address)


def stop_serve(name):
    process = processes.pop(name)
    process.send_signal(signal.SIGTERM)
    if process.wait(timeout=60) != 0:
        fail(f"serve {name} exited with {process.returncode} at SIGTERM")


def produce(first, count):
    lines = "".join(f"k{i}:{{\"V\":\"v{i}\"}}\n" for i in range(first, first + count))
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "src", "-K:"], input=lines.encode(),
                   check=True)


def output_keys():
    done = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "OUT", "-e", "-q", "-f", "%k\n"],
                          capture_output=True, timeout=60)
    return [line for line in done.stdout.decode().splitlines() if line]


def wait_complete(expected):
    def complete():
        keys = output_keys()
        return keys if len(set(keys)) >= expected else None
    keys = wait_for(f"{expected} distinct keys in OUT", complete)
    time.sleep(1)  # a duplicate would come with the next commit
    keys = output_keys()
    if len(keys) != expected or len(set(keys)) != expected:
        fail(f"OUT has {len(keys)} records with {len(set(keys))} distinct keys; expected "
             f"{expected} once each")


for tool in ("kcat",):
    if shutil.which(tool) is None:
        skip(f"{tool} is missing")
if mode == "real":
    cache = os.environ.get("SIDESTREAM_KAFKA_CACHE",
                           os.path.expanduser("~/.cache/sidestream/kafka"))
    if shutil.which("java") is None or shutil.which("mvn") is None:
        skip("Java or Maven is missing, so no real Kafka broker")
    if subprocess.run(["bash", os.path.join(real_kafka_dir, "fetch.sh"), cache],
                      capture_output=True).returncode != 0:
        skip("cannot fetch Apache Kafka from Maven Central")
    broker_work = os.path.join(work, "broker")
    os.makedirs(broker_work)
    started = subprocess.run(["bash", os.path.join(real_kafka_dir, "start.sh"), cache, broker_work],
                             capture_output=True, env=dict(os.environ,
                                                           SIDESTREAM_KAFKA_WATCH_PID=str(os.getpid())))
    if started.returncode != 0:
        fail("the real broker did not start: " + started.stderr.decode()[-500:])
    bootstrap = started.stdout.decode().strip().splitlines()[-1]
else:
    # The mock in another process has no admin API: it creates the topics itself.
    out = open(os.path.join(work, "broker.out"), "w")
    processes["broker"] = subprocess.Popen(
        [broker_binary, "--topic", f"{COMMAND_TOPIC}:1", "--topic", f"src:{PARTITIONS}",
         "--topic", f"OUT:{PARTITIONS}", "--topic", "sidestream_dead_letters:1",
         # The query's internal topic, named by its id (numbered by its command's offset).
         "--topic", f"{SERVICE_ID}_CSAS_OUT_1-stream-time-changelog:{PARTITIONS}",
         "--topic", f"src2:{PARTITIONS}", "--topic", f"OUT2:{PARTITIONS}",
         "--topic", f"{SERVICE_ID}_CSAS_OUT2_5-stream-time-changelog:{PARTITIONS}"],
        stdout=out, stderr=open(os.path.join(work, "broker.err"), "w"))

    def broker_address():
        found = re.search(r"^bootstrap.servers=(.*)$", open(out.name).read(), re.M)
        return found.group(1) if found else None
    bootstrap = wait_for("sidestream-broker to start", broker_address)

a_dir, b_dir = os.path.join(work, "a_state"), os.path.join(work, "b_state")
a = start_serve("a", a_dir)
b = start_serve("b", b_dir) if mode == "real" else None

# Through A: two commands, at offsets 0 and 1 of a new topic.
created = ksql(a, "CREATE STREAM SRC (ID STRING KEY, V STRING) WITH (KAFKA_TOPIC='src', "
               f"VALUE_FORMAT='JSON', PARTITIONS={PARTITIONS});")[0]
if created.get("commandSequenceNumber") != 0:
    fail(f"CREATE STREAM: commandSequenceNumber {created.get('commandSequenceNumber')}, "
         f"expected 0 (the first offset of {COMMAND_TOPIC}): {created}")
csas = ksql(a, "CREATE STREAM OUT AS SELECT ID, V FROM SRC EMIT CHANGES;",
            {"auto.offset.reset": "earliest"})[0]
query_id = csas["commandStatus"]["queryId"]
if csas.get("commandSequenceNumber") != 1 or query_id != "CSAS_OUT_1":
    fail(f"CSAS: expected commandSequenceNumber 1 and query CSAS_OUT_1: {csas}")
# A statement that fails its checks never enters the topic: the next command is offset 2.
status, body = post(a, "/ksql", {"ksql": "DROP STREAM NO_SUCH_STREAM;"})
if status != 400:
    fail(f"DROP of an unknown stream: {status} {body}")

if b is None:
    # Embedded mode: the query runs on A alone first (one member in its group), then B joins
    # later, with the commands already in the topic.
    produce(0, RECORDS)
    wait_complete(RECORDS)
    b = start_serve("b", b_dir)
wait_for("B to list SRC and OUT", lambda: {"SRC", "OUT"} <= names(b, "STREAMS"))
wait_for(f"B to list {query_id}", lambda: query_id in names(b, "QUERIES"))

if mode == "real":
    # Both instances run the query, one consumer group: wait until each consumes, then all.
    produce(0, RECORDS)
    wait_complete(RECORDS)
    consumed_a = metric(a, "sidestream_query_records_consumed_total", query_id)
    consumed_b = metric(b, "sidestream_query_records_consumed_total", query_id)
    print(f"consumed: A {consumed_a:.0f}, B {consumed_b:.0f}")
    if consumed_a <= 0 or consumed_b <= 0 or consumed_a + consumed_b != RECORDS:
        fail(f"the instances did not share the work: A consumed {consumed_a}, B {consumed_b} "
             f"of {RECORDS}")

# B again, from an empty state.dir: its catalog comes back from the topic before it listens.
stop_serve("b")
shutil.rmtree(b_dir)
b = start_serve("b", b_dir)
if not {"SRC", "OUT"} <= names(b, "STREAMS") or query_id not in names(b, "QUERIES"):
    fail(f"B restarted empty: streams {names(b, 'STREAMS')}, queries {list(names(b, 'QUERIES'))}")
if "replayed 2 command(s), 0 failed" not in open(os.path.join(work, "b.out")).read() + \
        open(os.path.join(work, "b.err")).read():
    fail("B restarted empty did not log that it replayed the 2 commands")

# A again, with its catalog file: it resumes after offset 1 and restarts the query from the
# file; records produced meanwhile come out too.
stop_serve("a")
produce(RECORDS, 40)
a = start_serve("a", a_dir)
log_a = open(os.path.join(work, "a.err")).read() + open(os.path.join(work, "a.out")).read()
if "had applied up to offset 1; replayed 0 command(s)" not in log_a:
    fail("A restarted with its catalog did not resume after offset 1")
if query_id not in names(a, "QUERIES"):
    fail(f"A restarted: {query_id} is not listed")
if mode == "real":
    wait_complete(RECORDS + 40)

# A record that is not a command (offset 2) fails alone on every instance: counted, and the
# replay goes on.
subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", COMMAND_TOPIC, "-p", "0"],
               input=b"not a command\n", check=True)
for name, base in (("A", a), ("B", b)):
    wait_for(f"{name} to count the bad command as failed",
             lambda: metric_total(base, "sidestream_commands_failed_total") == 1)

# Through B: TERMINATE (offset 3) reaches A.
terminated = ksql(b, f"TERMINATE {query_id};")[0]
if terminated.get("commandSequenceNumber") != 3:
    fail(f"TERMINATE through B: commandSequenceNumber {terminated.get('commandSequenceNumber')},"
         f" expected 3: {terminated}")
wait_for(f"A to drop {query_id}", lambda: query_id not in names(a, "QUERIES"))

# A statement sent to B right after A accepted the one it depends on (offset 4): B runs every
# command already in the topic before it checks its own (offset 5), so SRC2 is known there.
ksql(a, "CREATE STREAM SRC2 (ID STRING KEY, V STRING) WITH (KAFKA_TOPIC='src2', "
     f"VALUE_FORMAT='JSON', PARTITIONS={PARTITIONS});")
derived = ksql(b, "CREATE STREAM OUT2 AS SELECT ID, V FROM SRC2 EMIT CHANGES;")[0]
if derived.get("commandSequenceNumber") != 5:
    fail(f"CSAS on SRC2 through B: expected commandSequenceNumber 5: {derived}")
# Since their last start: A applied offsets 2-5, B (rebuilt empty) 0-5; each failed offset 2.
wait_for("A to apply offset 5", lambda: "OUT2" in names(a, "STREAMS"))
for name, base, applied in (("A", a, 4), ("B", b, 6)):
    got = metric_total(base, "sidestream_commands_applied_total")
    if got != applied:
        fail(f"{name}: sidestream_commands_applied_total is {got}, expected {applied}")

# /status answers on every instance, for commands sent to either: each keeps the status of
# every command it ran. The bad record at offset 2 has no command id.
def command_status(base, command_id):
    url = base + "/status/" + urllib.parse.quote(command_id)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


for name, base in (("A", a), ("B", b)):
    for command_id, message in ((f"terminate/{query_id}/execute", "Query terminated."),
                                ("stream/`SRC2`/create", "Stream created"),
                                ("stream/`OUT2`/create", "Created query with ID CSAS_OUT2_5")):
        got = command_status(base, command_id)
        if got[0] != 200 or got[1].get("status") != "SUCCESS" or got[1].get("message") != message:
            fail(f"{name}: /status/{command_id} -> {got}, expected SUCCESS '{message}'")
print(f"OK ({mode}): two instances share one catalog through {COMMAND_TOPIC}")
cleanup()
