"""ksql-python-ng (PyPI; ksql-python's maintained fork) against `sidestream serve`, unchanged.

It speaks HTTP/1.1 (httpx) for /ksql and /query, and HTTP/2 for /query-stream and
/inserts-stream: statements, the stream listing, DESCRIBE EXTENDED, inserts, a pull query on the
stream over each protocol, a push query, and a statement error.
  clients_python_test.py URL   (run with the venv's python, which has ksql-python-ng)
"""
import json
import sys
import time

from ksql import KSQLAPI
from ksql.errors import KSQLError
from ksql.utils import get_all_streams, get_stream_info

url = sys.argv[1]


def check(condition, what, detail=None):
    if not condition:
        print(f"FAILED: {what}: {detail!r}")
        sys.exit(1)
    print(f"ok: {what}")


client = KSQLAPI(url, timeout=30)  # GET /info: the server's version
check(client.get_ksql_version() == "0.29.0", "get_ksql_version", client.get_ksql_version())

result = client.ksql(
    "CREATE STREAM pycalls (caller STRING KEY, secs INT) "
    "WITH (KAFKA_TOPIC='py_calls', VALUE_FORMAT='JSON', PARTITIONS=1);")
check(result[0]["@type"] == "currentStatus" and
      result[0]["commandStatus"]["status"] == "SUCCESS", "CREATE STREAM", result)

streams = get_all_streams(client)
check("PYCALLS" in streams, "get_all_streams (SHOW STREAMS) names PYCALLS", streams)
info = get_stream_info(client, "pycalls")
check(info is not None and info["name"] == "PYCALLS" and info["topic"] == "py_calls",
      "get_stream_info (DESCRIBE EXTENDED)", info)
check(get_stream_info(client, "nope") is None, "get_stream_info of an unknown stream is None")

rows = [{"CALLER": "+4917", "SECS": 10}, {"CALLER": "+4930", "SECS": 5},
        {"CALLER": "+4917", "SECS": 20}]
acks = client.inserts_stream("pycalls", rows)  # HTTP/2
check(len(acks) == 3 and all(ack["status"] == "ok" for ack in acks), "inserts_stream", acks)

# A pull query on the stream over HTTP/2 (/query-stream), parsed by the client into objects:
# each row must arrive as its own DATA frame, as ksqlDB sends them.
pulled = list(client.query("SELECT caller, secs FROM pycalls WHERE secs >= 10;",
                           use_http2=True, parse=True))
check(pulled == [{"CALLER": "+4917", "SECS": 10}, {"CALLER": "+4917", "SECS": 20}],
      "pull query on a stream over HTTP/2, parsed", pulled)

# The same over HTTP/1.1 (/query): ksqlDB's JSON array, header first, final message last.
body = json.loads("".join(client.query("SELECT * FROM pycalls LIMIT 2;")))
check(body[0]["header"]["schema"] == "`CALLER` STRING, `SECS` INTEGER" and
      [row["row"]["columns"] for row in body[1:3]] == [["+4917", 10], ["+4930", 5]] and
      body[3] == {"finalMessage": "Limit Reached"} and len(body) == 4,
      "pull query on a stream over HTTP/1.1, LIMIT 2", body)

# A push query from the earliest offset, ended by its LIMIT, over HTTP/2.
pushed = list(client.query("SELECT caller, secs FROM pycalls EMIT CHANGES LIMIT 3;",
                           use_http2=True, parse=True,
                           stream_properties={"auto.offset.reset": "earliest"}))
check(sorted(row["SECS"] for row in pushed) == [5, 10, 20], "push query with LIMIT", pushed)

try:
    client.ksql("CREATE STREAM broken AS SELECT nope FROM pycalls;")
    check(False, "a bad statement raises KSQLError")
except KSQLError as error:
    check(error.error_code == 40001 and "NOPE" in str(error).upper(),
          "a bad statement raises KSQLError 40001", (error.error_code, str(error)))

try:
    list(client.query("SELECT * FROM nope;", use_http2=True))
    check(False, "a query on an unknown stream fails")
except ValueError as error:
    check("400" in str(error) and "NOPE" in str(error).upper(),
          "a query on an unknown stream is a 400 naming it", str(error))

print("PASSED: ksql-python-ng ran statements, listings, inserts, pull and push queries")
