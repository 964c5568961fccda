// Sidestream's web console: plain JavaScript over ksqlDB's REST API (/ksql, /query-stream,
// /close-query, /info) and Prometheus's /metrics, served by `sidestream serve` itself.
// Server data reaches the page only through textContent and attributes: never as HTML.
'use strict';

const QUERIES_REFRESH_MS = 2000;
const CATALOG_REFRESH_MS = 5000;
const MAX_LIVE_ROWS = 1000;  // older rows leave the table, so that a busy query cannot stall it
const ERROR_REFRESH_MS = 10000;  // EXPLAIN of a failing query, for its last error
const TIME_COLUMNS = new Set(['ROWTIME', 'WINDOWSTART', 'WINDOWEND']);

// ---- DOM helpers: every text goes through textContent.

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) continue;
    if (name === 'className') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) append(node, child);
  return node;
}

function append(node, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) {
    for (const item of child) append(node, item);
  } else if (child instanceof Node) {
    node.appendChild(child);
  } else {
    node.appendChild(document.createTextNode(String(child)));
  }
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const $ = (id) => document.getElementById(id);

function isoTime(ms) {
  const date = new Date(ms);
  return isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

// A cell's text: times as ISO (the raw value in the title), structures as JSON.
function formatCell(value, name, type) {
  if (value === null || value === undefined) return {text: 'null', className: 'null'};
  const upperType = String(type || '').toUpperCase();
  if (typeof value === 'number' && (TIME_COLUMNS.has(name) || upperType === 'TIMESTAMP')) {
    return {text: isoTime(value), title: String(value), className: 'time'};
  }
  if (typeof value === 'number') return {text: String(value), className: 'number'};
  if (typeof value === 'object') return {text: JSON.stringify(value)};
  return {text: String(value)};
}

function table(headers, rows) {
  return el('table', {},
            el('thead', {}, el('tr', {}, headers.map((header) => el('th', {}, header)))),
            el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell) =>
              cell instanceof Node ? el('td', {}, cell) : el('td', {}, cell ?? ''))))));
}

// ---- The REST API.

async function postJson(path, body, signal) {
  return fetch(path, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'Accept': 'application/json'},
    body: JSON.stringify(body),
    signal,
  });
}

// Runs statements through /ksql: {ok, body} with the entities, or the error body.
async function ksql(sql, properties) {
  const response = await postJson('/ksql', {ksql: sql, streamsProperties: properties || {}});
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (error) {
    body = {message: `${response.status}: ${text}`};
  }
  return {ok: response.ok, status: response.status, body};
}

function queryProperties() {
  return $('earliest').checked ? {'auto.offset.reset': 'earliest'} : {};
}

// ---- Statements: split the editor's text so that SELECTs go to /query-stream and the rest
// to /ksql, keeping where each starts for the line:column of errors.

// Offsets of the statements in `text`, respecting quotes, backquotes and comments.
function splitStatements(text) {
  const statements = [];
  let start = 0;
  let i = 0;
  const push = (end) => {
    const piece = text.slice(start, end);
    if (stripComments(piece).trim() !== '') statements.push({start, end});
    start = end;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '`' || c === '"') {
      const close = c;
      i++;
      while (i < text.length) {
        if (text[i] === close && text[i + 1] === close) { i += 2; continue; }
        if (text[i] === close) break;
        i++;
      }
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
    } else if (c === ';') {
      i++;
      push(i);
    } else {
      i++;
    }
  }
  push(text.length);
  return statements;
}

// The text with comments and quoted literals blanked out (same length).
function stripComments(text) {
  return text.replace(/--[^\n]*|\/\*[\s\S]*?(\*\/|$)|'(?:[^']|'')*'?/g,
                      (match) => match.replace(/[^\n]/g, ' '));
}

function isQuery(text) {
  return /^\s*SELECT\b/i.test(stripComments(text));
}

// Line and column (1-based) of `offset` in `text`.
function position(text, offset) {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text[i] === '\n') { line++; lineStart = i + 1; }
  }
  return {line, column: offset - lineStart + 1};
}

// Splits "line L:C: message" (relative to the text sent, which began at `origin` in the editor)
// into the editor's line and column and the message.
// Without an origin (the statement is not in the editor), the server's own line:column.
function locate(message, origin) {
  const found = /^line (\d+):(\d+): ([\s\S]*)$/.exec(message || '');
  if (!found) return {message: message || ''};
  const line = Number(found[1]);
  const column = Number(found[2]);
  if (!origin) return {line, column, message: found[3], elsewhere: true};
  return {
    line: origin.line + line - 1,
    column: line === 1 ? origin.column + column - 1 : column,
    message: found[3],
  };
}

function selectInEditor(line, column) {
  const editor = $('editor');
  const lines = editor.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  editor.focus();
  editor.setSelectionRange(offset, Math.min(editor.value.length, offset + 1));
}

// ---- Results of statements.

function errorCard(body, origin, statementText) {
  const located = locate(body && body.message, origin);
  let where = null;
  if (located.elsewhere) {
    where = el('strong', {}, `line ${located.line}:${located.column}`);
  } else if (located.line) {
    where = el('span', {className: 'location', title: 'Show in the editor',
                        onclick: () => selectInEditor(located.line, located.column)},
               `line ${located.line}:${located.column}`);
  }
  const statement = (body && body.statementText) || statementText;
  return el('div', {className: 'entity error'},
            statement ? el('div', {className: 'statement'}, statement) : null,
            el('div', {className: 'message'}, where, where ? ': ' : '', located.message,
               body && body.error_code ? el('span', {className: 'tag'}, body.error_code) : null));
}

function sourceFieldsTable(fields) {
  return table(['Column', 'Type', ''], (fields || []).map((field) => [
    field.name, schemaText(field.schema), field.type ? field.type.replace('_', ' ') : '']));
}

function schemaText(schema) {
  if (!schema) return '';
  switch (schema.type) {
    case 'ARRAY': return `ARRAY<${schemaText(schema.memberSchema)}>`;
    case 'MAP': return `MAP<STRING, ${schemaText(schema.memberSchema)}>`;
    case 'STRUCT':
      return `STRUCT<${(schema.fields || []).map((f) => `${f.name} ${schemaText(f.schema)}`)
        .join(', ')}>`;
    case 'DECIMAL':
      return schema.parameters
        ? `DECIMAL(${schema.parameters.precision}, ${schema.parameters.scale})` : 'DECIMAL';
    default: return schema.type;
  }
}

function describeSource(source) {
  return [
    el('div', {}, el('strong', {}, source.name), el('span', {className: 'tag'}, source.type),
       ` topic ${source.topic}, key ${source.keyFormat}, value ${source.valueFormat}`,
       source.windowType ? `, ${source.windowType} windows` : '',
       source.timestamp ? `, event time ${source.timestamp}` : ''),
    sourceFieldsTable(source.fields),
    (source.writeQueries || []).length
      ? el('div', {className: 'muted'}, 'written by ',
           source.writeQueries.map((query) => query.id).join(', ')) : null,
    (source.readQueries || []).length
      ? el('div', {className: 'muted'}, 'read by ',
           source.readQueries.map((query) => query.id).join(', ')) : null,
  ];
}

function renderEntity(entity) {
  const content = [];
  switch (entity['@type']) {
    case 'currentStatus':
      content.push(el('div', {className: 'message'},
                      (entity.commandStatus && entity.commandStatus.message) || 'Done'));
      break;
    case 'streams':
    case 'tables': {
      const list = entity.streams || entity.tables || [];
      content.push(table(['Name', 'Type', 'Topic', 'Key format', 'Value format', 'Windowed'],
                         list.map((s) => [s.name, s.type, s.topic, s.keyFormat, s.valueFormat,
                                          s.isWindowed ? 'yes' : 'no'])));
      break;
    }
    case 'queries':
      content.push(table(['Query', 'Type', 'State', 'Sinks', 'SQL'],
                         (entity.queries || []).map((q) => [q.id, q.queryType, q.state,
                                                            (q.sinks || []).join(', '),
                                                            q.queryString])));
      break;
    case 'kafka_topics':
      content.push(table(['Topic', 'Partitions'],
                         (entity.topics || []).map((t) => [t.name,
                                                           (t.replicaInfo || []).length])));
      break;
    case 'sourceDescription':
      content.push(describeSource(entity.sourceDescription));
      break;
    case 'source_descriptions':
      for (const source of entity.sourceDescriptions || []) content.push(describeSource(source));
      break;
    case 'queryDescription': {
      const query = entity.queryDescription || {};
      content.push(el('div', {}, el('strong', {}, query.id || 'plan'),
                      query.state ? el('span', {className: `tag state-${query.state}`},
                                       query.state) : null));
      if (query.executionPlan) content.push(el('pre', {}, query.executionPlan));
      for (const error of query.queryErrors || []) {
        content.push(el('div', {className: 'message state-ERROR'},
                        `${isoTime(error.timestamp)} ${error.type}: ${error.errorMessage}`));
      }
      break;
    }
    case 'properties':
      content.push(table(['Property', 'Value'],
                         (entity.properties || []).map((p) => [p.name, p.value])));
      break;
    case 'connector_list':
      content.push(table(['Connector', 'Class', 'State'],
                         (entity.connectors || []).map((c) => [c.name, c.className, c.state])));
      break;
    default:
      content.push(el('pre', {}, JSON.stringify(entity, null, 2)));
  }
  for (const warning of entity.warnings || []) {
    content.push(el('div', {className: 'muted'}, `warning: ${warning.message}`));
  }
  return el('div', {className: 'entity', 'data-type': entity['@type']},
            el('div', {className: 'statement'}, entity.statementText || ''), content);
}

// ---- Running the editor's text.

let running = false;

async function run() {
  if (running) return;
  const editor = $('editor');
  const results = $('results');
  const selected = editor.selectionStart !== editor.selectionEnd;
  const base = selected ? editor.selectionStart : 0;
  const text = selected ? editor.value.slice(editor.selectionStart, editor.selectionEnd)
                        : editor.value;
  const statements = splitStatements(text);
  if (statements.length === 0) return;
  running = true;
  $('run').disabled = true;
  clear(results);
  try {
    // Consecutive statements that are not queries go to /ksql together; a failure stops the
    // rest, as in ksqlDB's CLI.
    let index = 0;
    while (index < statements.length) {
      const first = statements[index];
      // What is sent starts at the first token, so that the server's line:column of an error
      // counts from `origin` in the editor.
      const begin = first.start + leadingSpace(text.slice(first.start, first.end));
      const origin = position(editor.value, base + begin);
      if (isQuery(text.slice(first.start, first.end))) {
        const sql = text.slice(begin, first.end).trimEnd();
        results.appendChild(el('div', {className: 'entity'}, el('div', {className: 'statement'}, sql),
                               el('div', {className: 'message'}, 'Its rows show in Query results.')));
        startLiveQuery(sql, origin);
        index++;
        continue;
      }
      let last = index;
      while (last + 1 < statements.length &&
             !isQuery(text.slice(statements[last + 1].start, statements[last + 1].end))) {
        last++;
      }
      const sql = text.slice(begin, statements[last].end).trimEnd();
      index = last + 1;
      const answer = await ksql(sql, {});
      const entities = answer.ok ? answer.body : (answer.body && answer.body.entities) || [];
      for (const entity of entities || []) results.appendChild(renderEntity(entity));
      if (!answer.ok) {
        // A statement's error is located within that statement; a parse error, within all
        // the text sent.
        const failed = statements.slice(statements.indexOf(first), index).find((statement) =>
          sameStatement(text.slice(statement.start, statement.end),
                        answer.body && answer.body.statementText));
        const failedOrigin = failed
          ? position(editor.value, base + failed.start +
                     leadingSpace(text.slice(failed.start, failed.end)))
          : origin;
        results.appendChild(errorCard(answer.body, failedOrigin, null));
        break;
      }
    }
  } catch (error) {
    results.appendChild(errorCard({message: `Request failed: ${error.message}`}, null, null));
  } finally {
    running = false;
    $('run').disabled = false;
    refreshQueries();
    refreshCatalog();
  }
}

function sameStatement(a, b) {
  const normal = (text) => String(text || '').trim().replace(/;$/, '').trim();
  return normal(a) === normal(b);
}

function leadingSpace(text) {
  const stripped = stripComments(text);
  const found = /\S/.exec(stripped);
  return found ? found.index : 0;
}

// ---- The live query: rows of /query-stream as they arrive.

let live = null;  // {id, controller, columns, types, keyIndexes, rows: Map, count, tbody}

function setLiveStatus(text) {
  $('live-status').textContent = text;
}

const FROM_PATTERN =
  /\bFROM\s+`?([A-Za-z_]\w*)`?\s*(?:[A-Za-z_]\w*\s*)?(?:WHERE|EMIT|LIMIT|;|$)/i;

// The description of the one source a query reads (DESCRIBE), or null: a join, a missing
// source, or an error. Asked when the query starts, so that a table created just before counts.
async function describeFrom(sql) {
  const from = FROM_PATTERN.exec(stripComments(sql));
  if (!from) return null;
  try {
    const answer = await ksql(`DESCRIBE ${from[1]};`);
    return answer.ok && answer.body[0] ? answer.body[0].sourceDescription || null : null;
  } catch (error) {
    return null;
  }
}

// The output columns that identify a row, so that a table's changes update it in place:
// the GROUP BY columns (and the window bounds), or a table source's primary key.
function keyColumns(sql, columns, source) {
  const text = stripComments(sql);
  const indexOf = (name) => columns.indexOf(name.replace(/`/g, '').split('.').pop().trim()
    .toUpperCase());
  const windowed = ['WINDOWSTART', 'WINDOWEND'].map(indexOf).filter((i) => i >= 0);
  const groupBy = /\bGROUP\s+BY\s+([\s\S]*?)(?:\bHAVING\b|\bEMIT\b|\bLIMIT\b|;|$)/i.exec(text);
  if (groupBy) {
    const indexes = splitTopLevel(groupBy[1]).map(indexOf);
    return indexes.every((i) => i >= 0) ? indexes.concat(windowed) : [];
  }
  if (source && source.type === 'TABLE') {
    const keys = (source.fields || []).filter((f) => f.type === 'PRIMARY_KEY')
      .map((f) => indexOf(f.name));
    if (keys.length && keys.every((i) => i >= 0)) return keys.concat(windowed);
  }
  return [];
}

function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((part) => part.trim() !== '');
}

async function stopLiveQuery(reason) {
  const query = live;
  if (!query) return;
  live = null;
  $('stop').disabled = true;
  query.stopped = true;
  if (query.id) {
    try {
      // Read to its end: an unread answer shows as an aborted request.
      await (await postJson('/close-query', {queryId: query.id})).text();
    } catch (error) {
      // Aborting the request below ends the query too.
    }
  }
  query.controller.abort();
  setLiveStatus(`${reason}: ${query.count} rows received${query.id ? ` (${query.id})` : ''}.`);
  refreshQueries();
}

function startLiveQuery(sql, origin) {
  if (live) stopLiveQuery('Replaced');
  const query = {controller: new AbortController(), count: 0, rows: new Map(), sql, origin};
  live = query;
  clear($('live-error'));
  clear($('live-table').tHead);
  clear($('live-table').tBodies[0]);
  $('stop').disabled = false;
  setLiveStatus('Starting…');
  streamQuery(query).catch((error) => {
    if (query.stopped) return;
    $('live-error').appendChild(errorCard({message: error.message}, origin, sql));
    finishLiveQuery(query, 'Failed');
  });
}

function finishLiveQuery(query, reason) {
  if (live !== query) return;
  live = null;
  $('stop').disabled = true;
  setLiveStatus(`${reason}: ${query.count} rows${query.id ? ` (${query.id})` : ''}.`);
}

async function streamQuery(query) {
  query.source = await describeFrom(query.sql);
  if (query.stopped) return;
  const response = await fetch('/query-stream', {
    method: 'POST',
    headers: {'Content-Type': 'application/json',
              'Accept': 'application/vnd.ksqlapi.delimited.v1'},
    body: JSON.stringify({sql: query.sql, properties: queryProperties()}),
    signal: query.controller.signal,
  });
  if (!response.ok) {
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch (error) { body = {message: text}; }
    $('live-error').appendChild(errorCard(body, query.origin, query.sql));
    finishLiveQuery(query, `Failed (HTTP ${response.status})`);
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) onLine(query, line);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim()) onLine(query, buffer.trim());
  finishLiveQuery(query, 'Completed');
}

function onLine(query, line) {
  if (query.stopped) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch (error) {
    $('live-error').appendChild(errorCard({message: `Unreadable line: ${line}`}, null, null));
    return;
  }
  if (Array.isArray(message)) return addRow(query, message);
  if (message && message.columnNames) return startTable(query, message);
  if (message && (message['@type'] || message.message)) {
    $('live-error').appendChild(errorCard(message, query.origin, null));
  }
}

function startTable(query, header) {
  query.id = header.queryId;
  query.columns = header.columnNames.map(String);
  query.types = header.columnTypes || [];
  query.keyIndexes = keyColumns(query.sql, query.columns, query.source);
  query.tbody = $('live-table').tBodies[0];
  const head = $('live-table').tHead;
  head.appendChild(el('tr', {}, query.columns.map((name, i) =>
    el('th', {title: query.types[i] || ''}, name))));
  const keyNames = query.keyIndexes.map((i) => query.columns[i]).join(', ');
  query.mode = keyNames ? `updating rows by key (${keyNames})` : 'appending rows as they arrive';
  setLiveStatus(`Running ${query.id}: 0 rows; ${query.mode}.`);
}

function addRow(query, values) {
  if (!query.tbody) return;
  query.count++;
  const cells = query.columns.map((name, i) => {
    const cell = formatCell(values[i], name, query.types[i]);
    return el('td', {className: cell.className, title: cell.title}, cell.text);
  });
  let key = null;
  if (query.keyIndexes.length) key = JSON.stringify(query.keyIndexes.map((i) => values[i]));
  const existing = key !== null ? query.rows.get(key) : null;
  if (existing) {
    clear(existing);
    append(existing, cells);
    existing.classList.remove('updated');
    void existing.offsetWidth;  // restarts the highlight
    existing.classList.add('updated');
  } else {
    const row = el('tr', {}, cells);
    if (key !== null) {
      row.dataset.key = key;
      query.rows.set(key, row);
    }
    query.tbody.appendChild(row);
    while (query.tbody.rows.length > MAX_LIVE_ROWS) {
      const oldest = query.tbody.rows[0];
      if (oldest.dataset.key) query.rows.delete(oldest.dataset.key);
      oldest.remove();
    }
  }
  setLiveStatus(`Running ${query.id}: ${query.count} rows; ${query.mode}.`);
}

// ---- Persistent queries: SHOW QUERIES, with rates and lag from /metrics.

// Prometheus's text format: name -> [{labels, value}].
function parseMetrics(text) {
  const metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const found = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!found) continue;
    const labels = {};
    const labelPattern = /(\w+)="((?:[^"\\]|\\.)*)"/g;
    let label;
    while ((label = labelPattern.exec(found[2] || '')) !== null) {
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    if (!metrics.has(found[1])) metrics.set(found[1], []);
    metrics.get(found[1]).push({labels, value: Number(found[3])});
  }
  return metrics;
}

function sumFor(metrics, name, queryId) {
  let total = null;
  for (const sample of metrics.get(name) || []) {
    if (sample.labels.query_id === queryId) total = (total || 0) + sample.value;
  }
  return total;
}

let previousTotals = null;  // {time, consumed: Map, produced: Map}
const lastErrors = new Map();  // query id -> {checked, text}

const shownRates = new Map();  // "consumed/<id>" -> text, kept between close refreshes

// Records per second since the previous refresh; refreshes under a second apart (after a
// statement ran) keep the rate shown before, which is less noisy.
function rate(now, previous, kind, id, current) {
  const name = `${kind}/${id}`;
  if (!previous || current === null || !previous.values.has(id)) return shownRates.get(name) || '';
  const seconds = (now - previous.time) / 1000;
  if (seconds < 1) return shownRates.get(name) || '';
  const text = (Math.max(0, current - previous.values.get(id)) / seconds).toFixed(1);
  shownRates.set(name, text);
  return text;
}

async function lastError(id) {
  const known = lastErrors.get(id);
  if (known && Date.now() - known.checked < ERROR_REFRESH_MS) return known.text;
  const entry = {checked: Date.now(), text: known ? known.text : ''};
  lastErrors.set(id, entry);
  const answer = await ksql(`EXPLAIN ${id};`);
  const errors = answer.ok && answer.body[0] && answer.body[0].queryDescription
    ? answer.body[0].queryDescription.queryErrors || [] : [];
  if (errors.length) {
    const error = errors[errors.length - 1];
    entry.text = `${isoTime(error.timestamp)} ${error.errorMessage}`;
  }
  return entry.text;
}

let refreshingQueries = false;

async function refreshQueries() {
  if (refreshingQueries) return;
  refreshingQueries = true;
  try {
    const [answer, metricsText] = await Promise.all([
      ksql('SHOW QUERIES;'),
      fetch('/metrics').then((response) => response.text()),
    ]);
    if (!answer.ok) throw new Error((answer.body && answer.body.message) || 'SHOW QUERIES failed');
    const metrics = parseMetrics(metricsText);
    const now = Date.now();
    const queries = (answer.body[0] && answer.body[0].queries) || [];
    const consumed = new Map();
    const produced = new Map();
    const rows = [];
    for (const query of queries) {
      const id = query.id;
      const consumedTotal = sumFor(metrics, 'sidestream_query_records_consumed_total', id);
      const producedTotal = sumFor(metrics, 'sidestream_query_records_produced_total', id);
      if (consumedTotal !== null) consumed.set(id, consumedTotal);
      if (producedTotal !== null) produced.set(id, producedTotal);
      const restarts = sumFor(metrics, 'sidestream_query_restarts', id);
      const lag = sumFor(metrics, 'sidestream_query_consumer_lag_records', id);
      const error = query.state === 'ERROR' || restarts > 0 ? await lastError(id) : '';
      const actions = el('span', {},
        el('a', {className: 'action', onclick: () => runAndShow(`EXPLAIN ${id};`)}, 'explain'),
        query.queryType === 'PERSISTENT' && query.state !== 'TERMINATED'
          ? el('a', {className: 'action', onclick: () => {
            if (window.confirm(`Terminate ${id}?`)) runAndShow(`TERMINATE ${id};`);
          }}, 'terminate') : null);
      rows.push(el('tr', {'data-query-id': id, title: query.queryString || ''},
        el('td', {}, id),
        el('td', {}, query.queryType || ''),
        el('td', {className: `state-${query.state}`}, query.state || ''),
        el('td', {}, (query.sinks || []).join(', ')),
        el('td', {className: 'number'},
           rate(now, previousTotals && previousTotals.consumed, 'consumed', id, consumedTotal)),
        el('td', {className: 'number'},
           rate(now, previousTotals && previousTotals.produced, 'produced', id, producedTotal)),
        el('td', {className: 'number'}, consumedTotal === null ? '' : consumedTotal),
        el('td', {className: 'number'}, lag === null ? '' : lag),
        el('td', {className: 'number'}, restarts === null ? '' : restarts),
        el('td', {className: error ? 'state-ERROR' : ''}, error),
        el('td', {}, actions)));
    }
    if (!previousTotals || now - previousTotals.consumed.time >= 1000) {
      previousTotals = {consumed: {time: now, values: consumed},
                        produced: {time: now, values: produced}};
    }
    const tbody = $('queries-table').tBodies[0];
    clear(tbody);
    if (rows.length === 0) {
      rows.push(el('tr', {}, el('td', {colspan: 11, className: 'muted'}, 'No queries yet.')));
    }
    append(tbody, rows);
    $('refresh-status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    $('refresh-status').textContent = `server unreachable: ${error.message}`;
  } finally {
    refreshingQueries = false;
  }
}

async function runAndShow(sql) {
  const results = $('results');
  clear(results);
  const answer = await ksql(sql);
  if (answer.ok) {
    for (const entity of answer.body) results.appendChild(renderEntity(entity));
  } else {
    results.appendChild(errorCard(answer.body, null, sql));
  }
  refreshQueries();
}

// ---- The catalog: streams and tables with their schemas, and topics.

let catalogText = '';

async function refreshCatalog() {
  let answer;
  try {
    answer = await ksql('DESCRIBE STREAMS; DESCRIBE TABLES; SHOW TOPICS;');
  } catch (error) {
    return;
  }
  if (!answer.ok) return;
  const text = JSON.stringify(answer.body);
  if (text === catalogText) return;  // unchanged: keep the open sections as they are
  catalogText = text;
  const sources = [];
  let topics = [];
  for (const entity of answer.body) {
    if (entity['@type'] === 'source_descriptions') sources.push(...entity.sourceDescriptions);
    if (entity['@type'] === 'kafka_topics') topics = entity.topics || [];
  }
  const open = new Set([...document.querySelectorAll('details.source[open]')]
    .map((node) => node.dataset.name));
  const container = $('sources');
  clear(container);
  if (sources.length === 0) {
    container.appendChild(el('div', {className: 'muted'}, 'No streams or tables yet.'));
  }
  for (const source of sources) {
    const details = el('details', {className: 'source', 'data-name': source.name},
      el('summary', {},
         el('strong', {}, source.name), el('span', {className: 'tag'}, source.type),
         ` ${source.fields.length} columns, topic ${source.topic}`,
         el('a', {className: 'action', title: 'Put a push query over it in the editor',
                  onclick: (event) => {
                    event.preventDefault();
                    $('editor').value = `SELECT * FROM ${source.name} EMIT CHANGES;`;
                    $('editor').focus();
                  }}, ' ↳ query')),
      describeSource(source));
    if (open.has(source.name)) details.open = true;
    container.appendChild(details);
  }
  const topicList = $('topics');
  clear(topicList);
  topicList.appendChild(topics.length
    ? table(['Topic', 'Partitions'], topics.map((t) => [t.name, (t.replicaInfo || []).length]))
    : el('div', {className: 'muted'}, 'No topics yet.'));
}

// ---- Start.

async function showServerInfo() {
  try {
    const response = await fetch('/info');
    const info = (await response.json()).KsqlServerInfo || {};
    $('server-info').textContent = `ksqlDB API ${info.version} · service ${info.ksqlServiceId}` +
      ` · Kafka ${info.kafkaClusterId} · ${info.serverStatus}`;
  } catch (error) {
    $('server-info').textContent = `server unreachable: ${error.message}`;
  }
}

function start() {
  $('run').addEventListener('click', run);
  $('stop').addEventListener('click', () => stopLiveQuery('Stopped'));
  $('editor').addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      run();
    }
  });
  showServerInfo();
  refreshQueries();
  refreshCatalog();
  setInterval(refreshQueries, QUERIES_REFRESH_MS);
  setInterval(refreshCatalog, CATALOG_REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
