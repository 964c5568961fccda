// The web console in a real browser (Debian's chromium, driven by puppeteer-core): creates a
// stream and a CSAS through the console's editor (Ctrl-Enter), checks an error's line:column,
// starts a push query, produces CDRs with kcat, and waits until the rows show in the live
// table with their values; then the queries list (CSAS RUNNING, records counted from
// /metrics), the catalog, Stop, and a pull query. Run by console_test.py, which starts serve.
// Usage: node console_test.mjs BASE_URL BOOTSTRAP SCREENSHOT_PNG PUPPETEER_DIR
import {execFileSync} from 'node:child_process';
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const [base, bootstrap, screenshot, puppeteerDir] = process.argv.slice(2);
const STEP_TIMEOUT_MS = 20000;

const require = createRequire(path.join(puppeteerDir, 'package.json'));
const puppeteer = (await import(pathToFileURL(require.resolve('puppeteer-core')).href)).default;

const problems = [];  // errors the page reported
const started = Date.now();

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function step(name, action) {
  const begin = Date.now();
  await action();
  console.log(`ok ${name} (${Date.now() - begin} ms)`);
}

const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  headless: true,
});
let page;
try {
  page = await browser.newPage();
  await page.setViewport({width: 1400, height: 1100});
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A statement's error answer (HTTP 400) is logged by the browser: the test expects some.
    if (message.type() === 'error' && !/status of 400/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    // Stop aborts the push query's request on purpose.
    if (!request.url().endsWith('/query-stream')) {
      problems.push(`request failed: ${request.url()} ${request.failure().errorText}`);
    }
  });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  // Puts `text` in the editor and runs it with Ctrl-Enter.
  async function runInEditor(text) {
    await page.$eval('#editor', (editor, value) => {
      editor.value = value;
      editor.setSelectionRange(0, 0);
    }, text);
    await page.focus('#editor');
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Control');
  }
  const texts = (selector) =>
    page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent));

  await step('the console loads from the binary and reads /info', async () => {
    await page.goto(base + '/', {waitUntil: 'load'});
    await page.waitForFunction(
      () => document.querySelector('#server-info').textContent.includes('ksqlDB API'));
    check((await page.title()) === 'Sidestream console', 'title');
  });

  await step('a statement runs; the next one fails with its line:column', async () => {
    await runInEditor(
      'CREATE STREAM CDR (CALLER STRING KEY, CALLEE STRING, CELL_ID STRING, DURATION_S INT,\n' +
      '  START_TS BIGINT) WITH (KAFKA_TOPIC=\'cdr\', VALUE_FORMAT=\'JSON\', PARTITIONS=1,\n' +
      '  TIMESTAMP=\'START_TS\');\n' +
      'CREATE STREAM BAD AS\n' +
      'SELECT CALLER,\n' +
      '   NOPE FROM CDR;\n');
    await page.waitForSelector('#results .entity.error');
    const messages = await texts('#results .entity .message');
    check(messages[0] === 'Stream created', `first entity: ${messages[0]}`);
    const location = await page.$eval('#results .entity.error .location', (n) => n.textContent);
    // NOPE is on the editor's line 6, column 4.
    check(location === 'line 6:4', `error location: ${location}`);
    check(messages[1].includes("SELECT column 'NOPE' cannot be resolved"),
          `error message: ${messages[1]}`);
  });

  await step('a CSAS runs through the editor', async () => {
    await runInEditor('CREATE STREAM LONG_CALLS AS SELECT CALLER, CALLEE, CELL_ID, DURATION_S\n' +
                      '  FROM CDR WHERE DURATION_S >= 60;');
    await page.waitForFunction(() => [...document.querySelectorAll('#results .entity .message')]
      .some((node) => node.textContent.startsWith('Created query with ID CSAS_LONG_CALLS')));
  });

  await step('the catalog shows both streams with their columns', async () => {
    await page.waitForSelector('details.source[data-name="LONG_CALLS"]');
    const columns = await texts('details.source[data-name="CDR"] tbody td:first-child');
    check(JSON.stringify(columns) ===
          JSON.stringify(['CALLER', 'CALLEE', 'CELL_ID', 'DURATION_S', 'START_TS']),
          `CDR's columns: ${columns}`);
  });

  await step('a push query starts in the live table', async () => {
    await page.$eval('#earliest', (box) => { box.checked = true; });
    await runInEditor('-- long calls as they happen\n' +
                      'SELECT ROWTIME, CALLER, CALLEE, CELL_ID, DURATION_S FROM LONG_CALLS ' +
                      'EMIT CHANGES;');
    await page.waitForFunction(
      () => document.querySelector('#live-status').textContent.startsWith('Running'));
    const headers = await texts('#live-table thead th');
    check(headers.join(',') === 'ROWTIME,CALLER,CALLEE,CELL_ID,DURATION_S', `headers: ${headers}`);
  });

  const t0 = 1764985000000;
  const records = [
    ['a', {CALLEE: 'b', CELL_ID: 'C1', DURATION_S: 75, START_TS: t0}],
    ['c', {CALLEE: 'd', CELL_ID: 'C2', DURATION_S: 10, START_TS: t0 + 1000}],
    ['e', {CALLEE: '<img src=x onerror="window.injected=1">', CELL_ID: 'C1', DURATION_S: 120,
           START_TS: t0 + 2000}],
    ['f', {CALLEE: 'g', CELL_ID: 'C3', DURATION_S: 59, START_TS: t0 + 3000}],
    ['h', {CALLEE: 'i', CELL_ID: 'C2', DURATION_S: 60, START_TS: t0 + 4000}],
  ];
  await step('CDRs produced with kcat appear as rows, with ISO times', async () => {
    execFileSync('kcat', ['-b', bootstrap, '-P', '-t', 'cdr', '-K', '|'], {
      input: records.map(([key, value]) => `${key}|${JSON.stringify(value)}`).join('\n') + '\n',
      timeout: 20000,
    });
    await page.waitForFunction(
      () => document.querySelectorAll('#live-table tbody tr').length >= 3, {timeout: 30000});
    const rows = await page.$$eval('#live-table tbody tr', (trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const expected = records.filter(([, value]) => value.DURATION_S >= 60).map(([key, value]) => [
      new Date(value.START_TS).toISOString(), key, value.CALLEE, value.CELL_ID,
      String(value.DURATION_S)]);
    check(JSON.stringify(rows) === JSON.stringify(expected),
          `rows: ${JSON.stringify(rows)}, expected ${JSON.stringify(expected)}`);
    const injected = await page.evaluate(
      () => window.injected !== undefined || document.querySelector('#live-table img') !== null);
    check(!injected, 'a value was rendered as HTML');
  });

  await step('the queries list shows the CSAS RUNNING with its records from /metrics', async () => {
    await page.waitForFunction(() => {
      const row = [...document.querySelectorAll('#queries-table tbody tr')]
        .find((tr) => (tr.dataset.queryId || '').startsWith('CSAS_LONG_CALLS'));
      return row && row.cells[2].textContent === 'RUNNING' && row.cells[6].textContent === '5' &&
             row.cells[7].textContent === '0';
    }, {timeout: 30000});
  });

  await step('screenshot', async () => {
    await page.screenshot({path: screenshot, fullPage: true});
    console.log(`screenshot: ${screenshot}`);
  });

  await step('Stop closes the push query on the server', async () => {
    await page.click('#stop');
    await page.waitForFunction(
      () => document.querySelector('#live-status').textContent.startsWith('Stopped'));
    await page.waitForFunction(async () => {
      const response = await fetch('/ksql', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({ksql: 'SHOW QUERIES;'})});
      const queries = (await response.json())[0].queries;
      return queries.every((query) => query.queryType !== 'PUSH');
    }, {polling: 500});
  });

  await step('a windowed count updates its rows in place, with ISO window bounds', async () => {
    await runInEditor('CREATE TABLE CALLS_PER_CELL AS SELECT CELL_ID, COUNT(*) AS CALLS FROM CDR\n' +
                      '  WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CELL_ID;\n' +
                      'SELECT CELL_ID, WINDOWSTART, WINDOWEND, CALLS FROM CALLS_PER_CELL ' +
                      'EMIT CHANGES;');
    const windowStart = new Date(Math.floor(t0 / 60000) * 60000).toISOString();
    const windowEnd = new Date(Math.floor(t0 / 60000) * 60000 + 60000).toISOString();
    const expected = [['C1', windowStart, windowEnd, '2'], ['C2', windowStart, windowEnd, '2'],
                      ['C3', windowStart, windowEnd, '1']];
    await page.waitForFunction((want) => {
      const rows = [...document.querySelectorAll('#live-table tbody tr')]
        .map((tr) => [...tr.cells].map((td) => td.textContent)).sort();
      return JSON.stringify(rows) === want;
    }, {timeout: 30000}, JSON.stringify(expected)).catch(async () => {
      const rows = await page.$$eval('#live-table tbody tr', (trs) =>
        trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
      throw new Error(`rows ${JSON.stringify(rows)}, expected ${JSON.stringify(expected)}`);
    });
    const status = await page.$eval('#live-status', (node) => node.textContent);
    check(status.includes('updating rows by key (CELL_ID, WINDOWSTART, WINDOWEND)'),
          `status: ${status}`);
  });

  await step('a pull query replaces it and shows its rows or its error', async () => {
    await runInEditor("SELECT * FROM CALLS_PER_CELL WHERE CELL_ID = 'C1';");
    await page.waitForFunction(() =>
      document.querySelector('#live-error .entity') !== null ||
      document.querySelector('#live-status').textContent.startsWith('Completed'));
    const error = await page.$eval('#live-error', (node) => node.textContent);
    const rows = await page.$$eval('#live-table tbody tr', (trs) => trs.length);
    console.log(`   pull query: ${error ? `error "${error}"` : `${rows} rows`}`);
    check(error !== '' || rows >= 1, 'a pull query showed neither rows nor an error');
  });

  await step('the replaced push query was closed on the server', async () => {
    await page.waitForFunction(async () => {
      const response = await fetch('/ksql', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({ksql: 'SHOW QUERIES;'})});
      const queries = (await response.json())[0].queries;
      return queries.every((query) => query.queryType !== 'PUSH');
    }, {polling: 500});
  });

  check(problems.length === 0, `the page reported problems:\n${problems.join('\n')}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
} catch (error) {
  console.log(`FAILED: ${error.message}`);
  if (problems.length) console.log(problems.join('\n'));
  if (page) {
    const failedShot = screenshot.replace(/\.png$/, '-failed.png');
    await page.screenshot({path: failedShot, fullPage: true}).catch(() => {});
    console.log(`screenshot: ${failedShot}`);
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
