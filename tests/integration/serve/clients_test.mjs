// ksqlDB's Node.js client (npm ksqldb-client, HTTP/2 only) against `sidestream serve`, unchanged:
// statements, inserts, a push query that sees the inserted rows, a pull query on the
// aggregate, a statement error, and the source listing.
//   node clients_test.mjs NODE_MODULES_DIR HOST PORT
import { createRequire } from "module";

const [modules, host, port] = process.argv.slice(2);
const require = createRequire(modules + "/");
const KsqldbClient = require("ksqldb-client");

function check(condition, what, detail) {
  if (!condition) {
    console.log(`FAILED: ${what}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

const client = new KsqldbClient({ host: `http://${host}`, port: Number(port) });
await client.connect();

let result = await client.executeStatement(
  "CREATE STREAM calls (caller STRING KEY, secs INT) " +
    "WITH (KAFKA_TOPIC='client_calls', VALUE_FORMAT='JSON', PARTITIONS=1);");
check(!result.error && result.status === 200, "CREATE STREAM", result);
result = await client.executeStatement(
  "CREATE TABLE totals AS SELECT caller, COUNT(*) AS n, SUM(secs) AS secs " +
    "FROM calls GROUP BY caller;");
check(!result.error && result.status === 200, "CREATE TABLE AS SELECT", result);

const streams = await client.listStreams();
check(JSON.stringify(streams).includes("CALLS"), "listStreams names CALLS", streams);

// A push query that ends after three rows; rows are inserted once it runs.
const pushed = [];
const push = client.streamQuery(
  "SELECT caller, secs FROM calls EMIT CHANGES LIMIT 3;",
  (data) => { if (data.rows) pushed.push(...data.rows); });
await new Promise((resolve) => setTimeout(resolve, 4000));
// The client parses each HTTP/2 DATA frame as one row; the server sends each row in a frame of
// its own (server/rest/http_server.cc), as ksqlDB does. The rows still go in apart.
for (const [caller, secs] of [["+4917", 10], ["+4917", 20], ["+4930", 5]]) {
  result = await client.insertInto("calls", { CALLER: caller, SECS: secs });
  check(!result.error, `insertInto ${caller} ${secs}`, result);
  await new Promise((resolve) => setTimeout(resolve, 1500));
}
const pushResult = await Promise.race([
  push, new Promise((resolve) => setTimeout(() => resolve({ error: "timed out" }), 60000))]);
check(!pushResult.error, "the push query ended after its LIMIT", pushResult);
// The client turns each row into an object keyed by column name.
check(pushed.length === 3 && pushed.some((row) => row.CALLER === "+4917" && row.SECS === 20),
      "the push query saw the three inserted rows", pushed);

// The aggregate catches up, then a pull query reads it.
let rows = [];
const caughtUp = () => rows.length === 1 && rows[0].N === 2;
for (let attempt = 0; attempt < 60 && !caughtUp(); ++attempt) {
  const { data, error } = await client.query("SELECT caller, n, secs FROM totals WHERE caller = '+4917';");
  check(!error, "pull query", error);
  rows = data.rows;
  if (!caughtUp()) await new Promise((resolve) => setTimeout(resolve, 500));
}
check(caughtUp() && rows[0].CALLER === "+4917" && rows[0].SECS === 30,
      "the pull query reads the aggregate", rows);

result = await client.executeStatement("CREATE STREAM broken AS SELECT nope FROM calls;");
check(result.error && result.status === 400, "a bad statement is a 400 with an error", result);

await client.disconnect();
console.log("PASSED: ksqldb-client ran statements, inserts, a push and a pull query");
// After disconnect() the client still holds something open that keeps node alive for about a
// minute (seen here: 65 s runs); the test is over, so end now.
process.exit(0);
