// Drives a running hotpath serve over the Open Inference Protocol (KServe v2) with clients Hotpath
// did not write: Node's built-in fetch for the REST endpoints (JSON tensors and Triton's binary
// tensor extension) and grpc-js, with the messages loaded by proto-loader from the server's own
// .proto files, for the gRPC service. Every answer is checked for its values: one input row sent
// through HTTP JSON, HTTP binary, gRPC raw and gRPC typed contents must come back as bit-identical
// FP32 outputs. One line per check; the first failure ends the run with exit status 1.
//
//   node conformance.mjs --http http://127.0.0.1:8000 --grpc 127.0.0.1:8001 --model mlp
//        [--max-request-bytes N]   the server's --max-request-bytes: checks 413 / RESOURCE_EXHAUSTED
//        [--slow-model NAME]       a model whose batcher holds a lone row for a second (4 slots, 1 s
//                                  queue delay): checks that a gRPC deadline is enforced at the server
//
// The model must take one FP32 input [-1, F] and give FP32 outputs. The statistics check expects no
// other client to use the model while this runs.

import { request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { values: opt } = parseArgs({
  options: {
    http: { type: 'string' },
    grpc: { type: 'string' },
    model: { type: 'string', default: 'mlp' },
    'max-request-bytes': { type: 'string' },
    'slow-model': { type: 'string' },
  },
});
if (!opt.http || !opt.grpc) {
  console.error('usage: node conformance.mjs --http http://HOST:PORT --grpc HOST:PORT [--model mlp] [--max-request-bytes N] [--slow-model NAME]');
  process.exit(2);
}
const BASE = opt.http.replace(/\/+$/, '');
const MODEL = opt.model;
const LIMIT = opt['max-request-bytes'] ? Number(opt['max-request-bytes']) : null;
const SLOW = opt['slow-model'] ?? null;
const TIMEOUT_MS = 10_000;

// ---- the harness: one line per check, stop at the first failure

let passed = 0;

async function check(id, fn) {
  let detail;
  try {
    detail = await fn();
  } catch (e) {
    // a Failed is a check's verdict; anything else (a refused connection, a bug here) comes with its cause and stack
    const cause = e?.cause ? ` (${e.cause.message ?? e.cause})` : '';
    console.log(`FAIL ${id}: ${e instanceof Failed ? e.message : `${e}${cause}\n${e?.stack ?? ''}`}`);
    process.exit(1);
  }
  passed++;
  console.log(`ok   ${id}${detail ? ' -- ' + detail : ''}`);
}

class Failed extends Error {}

function expect(cond, msg) {
  if (!cond) throw new Failed(typeof msg === 'function' ? msg() : msg);
}

function expectEqual(actual, want, what) {
  const a = JSON.stringify(actual);
  const w = JSON.stringify(want);
  expect(a === w, () => `${what}: got ${a}, want ${w}`);
}

// What this script did to the model, for the statistics check at the end.
const counted = { success: 0, fail: 0, rows: 0 };

// ---- tensors

/** A deterministic row of F float32 values in [-2, 2). */
function row(seed, features) {
  let s = seed >>> 0;
  const out = new Float32Array(features);
  for (let i = 0; i < features; i++) {
    s = (s + 0x6d2b79f5) >>> 0;                       // mulberry32
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 4 - 2;
  }
  return out;
}

function concat(rows) {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** Little-endian bytes of float32 values, whatever the platform's order. */
function leBytes(floats) {
  const b = new Uint8Array(floats.length * 4);
  const v = new DataView(b.buffer);
  floats.forEach((f, i) => v.setFloat32(i * 4, f, true));
  return b;
}

/** The float32 values of little-endian bytes, read with a DataView. */
function floatsOf(bytes) {
  expect(bytes.length % 4 === 0, `${bytes.length} bytes is not a whole number of FP32 values`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => v.getFloat32(i * 4, true));
}

/** Asserts two FP32 tensors are bit-identical (so -0 differs from 0, and a NaN is compared by its bits). */
function expectSameBits(got, want, what) {
  expect(got.length === want.length, `${what}: ${got.length} values, want ${want.length}`);
  const g = new Uint32Array(Float32Array.from(got).buffer);
  const w = new Uint32Array(Float32Array.from(want).buffer);
  for (let i = 0; i < g.length; i++) {
    expect(g[i] === w[i], () => `${what}: value ${i} is ${got[i]} (0x${g[i].toString(16)}), want ${want[i]} (0x${w[i].toString(16)})`);
  }
}

// ---- HTTP

async function http(method, path, { body, headers } = {}) {
  const res = await fetch(BASE + path, { method, body, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: new TextDecoder().decode(bytes) };
}

function jsonOf(res, what) {
  try {
    return JSON.parse(res.text);
  } catch (e) {
    throw new Failed(`${what}: the body is not JSON (${e.message}): ${res.text.slice(0, 200)}`);
  }
}

async function getJson(path) {
  const res = await http('GET', path);
  expect(res.status === 200, () => `GET ${path}: ${res.status} ${res.text.slice(0, 300)}`);
  expect((res.headers.get('content-type') ?? '').startsWith('application/json'), `GET ${path}: content-type ${res.headers.get('content-type')}`);
  return jsonOf(res, `GET ${path}`);
}

async function getStatus(path, want) {
  const res = await http('GET', path);
  expect(res.status === want, () => `GET ${path}: ${res.status}, want ${want} ${res.text.slice(0, 300)}`);
  return `GET ${path} -> ${res.status}`;
}

/** An error answer: the status, a JSON object {"error": "<one line>"}; returns the line. */
function expectError(res, status, what, contains) {
  expect(res.status === status, () => `${what}: status ${res.status}, want ${status}; body ${res.text.slice(0, 300)}`);
  expect((res.headers.get('content-type') ?? '').startsWith('application/json'), `${what}: content-type ${res.headers.get('content-type')}`);
  const body = jsonOf(res, what);
  expect(body !== null && typeof body === 'object' && typeof body.error === 'string', `${what}: body ${res.text} is not {"error": "..."}`);
  expect(!body.error.includes('\n'), `${what}: the error spans lines: ${body.error}`);
  if (contains) expect(body.error.includes(contains), `${what}: error "${body.error}" does not say "${contains}"`);
  return body.error;
}

function inferPath(model = MODEL) {
  return `/v2/models/${encodeURIComponent(model)}/infer`;
}

function jsonInferBody(meta, floats, rows, extra = {}) {
  return JSON.stringify({
    id: extra.id ?? 'conformance',
    inputs: [{ name: meta.input, shape: [rows, meta.features], datatype: 'FP32', data: Array.from(floats) }],
    ...extra.request,
  });
}

/** A body of the binary tensor extension: the JSON header, then the input's raw bytes. */
function binaryInferBody(meta, floats, rows, { binaryOut, truncateBy = 0 } = {}) {
  const data = leBytes(floats);
  const header = new TextEncoder().encode(JSON.stringify({
    id: 'binary',
    inputs: [{ name: meta.input, shape: [rows, meta.features], datatype: 'FP32', parameters: { binary_data_size: data.length } }],
    parameters: { binary_data_output: binaryOut },
  }));
  const body = new Uint8Array(header.length + data.length - truncateBy);
  body.set(header);
  body.set(data.subarray(0, data.length - truncateBy), header.length);
  return { body, headerLength: header.length };
}

/** POSTs an infer request; expects 200 and returns the first output's values (JSON or binary answer). */
async function httpInfer(meta, body, headers, rows, what, path = inferPath()) {
  const res = await http('POST', path, { body, headers });
  if (res.status !== 200) {
    counted.fail++;
    throw new Failed(`${what}: status ${res.status} ${res.text.slice(0, 300)}`);
  }
  counted.success++;
  counted.rows += rows;
  const hl = res.headers.get('inference-header-content-length');
  const header = hl === null ? jsonOf(res, what) : JSON.parse(new TextDecoder().decode(res.bytes.subarray(0, Number(hl))));
  expectEqual(header.model_name, MODEL, `${what}: model_name`);
  expectEqual(header.model_version, meta.version, `${what}: model_version`);
  const out = header.outputs?.[0];
  expect(out, `${what}: no outputs in ${JSON.stringify(header)}`);
  expectEqual(out.name, meta.output, `${what}: output name`);
  expectEqual(out.datatype, 'FP32', `${what}: output datatype`);
  expectEqual(out.shape, [rows, meta.outputWidth], `${what}: output shape`);
  if (out.data !== undefined) {
    expect(hl === null, `${what}: a JSON output in a binary answer`);
    return { values: Float32Array.from(out.data), header, binary: false };
  }
  expect(hl !== null, `${what}: output without "data" and no Inference-Header-Content-Length`);
  expectEqual(res.headers.get('content-type'), 'application/octet-stream', `${what}: content-type of a binary answer`);
  const size = out.parameters?.binary_data_size;
  expectEqual(size, rows * meta.outputWidth * 4, `${what}: binary_data_size`);
  expectEqual(res.bytes.length, Number(hl) + size, `${what}: body length (header ${hl} + binary ${size})`);
  return { values: floatsOf(res.bytes.subarray(Number(hl), Number(hl) + size)), header, binary: true };
}

// ---- gRPC

const PROTO_DIR = fileURLToPath(new URL('../../main/proto/', import.meta.url));
const definition = protoLoader.loadSync('grpc_service.proto', {
  includeDirs: [PROTO_DIR],          // grpc_service.proto imports model_config.proto from here
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(opt.grpc, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': 64 << 20,
});

function deadlineIn(ms) {
  return new Date(Date.now() + ms);
}

function rpc(method, request, deadline = deadlineIn(TIMEOUT_MS)) {
  return new Promise((resolve, reject) => client[method](request, { deadline }, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Expects the call to fail with `code` (a grpc.status name); returns the status details. */
async function rpcFails(method, request, code, what, contains, deadline) {
  try {
    const res = await rpc(method, request, deadline);
    throw new Failed(`${what}: answered ${JSON.stringify(res).slice(0, 300)}, want ${code}`);
  } catch (e) {
    if (e instanceof Failed) throw e;
    expect(e.code === grpc.status[code], `${what}: ${grpc.status[e.code] ?? e.code} (${e.details}), want ${code}`);
    if (contains) expect(e.details.includes(contains), `${what}: details "${e.details}" do not say "${contains}"`);
    return e.details;
  }
}

function grpcInput(meta, rows, datatype = 'FP32', features = meta.features) {
  return { name: meta.input, datatype, shape: [rows, features] };
}

/** ModelInfer; expects OK and returns the first output's values from raw_output_contents. */
async function grpcInfer(meta, request, rows, what) {
  let res;
  try {
    res = await rpc('ModelInfer', { model_name: MODEL, ...request });
  } catch (e) {
    counted.fail++;
    throw new Failed(`${what}: ${grpc.status[e.code]} ${e.details}`);
  }
  counted.success++;
  counted.rows += rows;
  expectEqual(res.model_name, MODEL, `${what}: model_name`);
  expectEqual(res.model_version, meta.version, `${what}: model_version`);
  expectEqual(res.id, request.id ?? '', `${what}: id`);
  const out = res.outputs[0];
  expect(out, `${what}: no outputs`);
  expectEqual(out.name, meta.output, `${what}: output name`);
  expectEqual(out.datatype, 'FP32', `${what}: output datatype`);
  expectEqual(out.shape.map(Number), [rows, meta.outputWidth], `${what}: output shape`);
  expectEqual(res.raw_output_contents.length, res.outputs.length, `${what}: raw_output_contents entries`);
  return floatsOf(res.raw_output_contents[0]);
}

function rawRequest(meta, floats, rows, extra = {}) {
  return { inputs: [grpcInput(meta, rows)], raw_input_contents: [Buffer.from(leBytes(floats))], ...extra };
}

// ---- the checks

const meta = {};       // the model as its metadata describes it: input, features, output, outputWidth, version
const stats = {};      // statistics before the run
const ref = {};        // reference answers (HTTP JSON)
const A = 11;          // the seed of the row every transport sends
const BATCH = [A, 12, 13];

function statsOf(body, model, what) {
  const s = body.model_stats?.find((m) => m.name === model);
  expect(s, `${what}: no model_stats entry for '${model}' in ${JSON.stringify(body).slice(0, 300)}`);
  return {
    version: String(s.version),
    success: Number(s.inference_stats.success.count),
    fail: Number(s.inference_stats.fail.count),
    inferences: Number(s.inference_count),
  };
}

// health, metadata, config and statistics over HTTP

await check('http.health.live', () => getStatus('/v2/health/live', 200));
await check('http.health.ready', () => getStatus('/v2/health/ready', 200));

await check('http.server.metadata', async () => {
  const s = await getJson('/v2');
  expect(typeof s.name === 'string' && s.name && typeof s.version === 'string', `GET /v2: ${JSON.stringify(s)}`);
  expect(Array.isArray(s.extensions) && s.extensions.includes('binary_tensor_data'), `GET /v2: extensions ${JSON.stringify(s.extensions)}`);
  meta.server = s;
  return `${s.name} ${s.version} [${s.extensions.join(', ')}]`;
});

await check('http.model.metadata', async () => {
  const m = await getJson(`/v2/models/${MODEL}`);
  expectEqual(m.name, MODEL, 'name');
  expect(Array.isArray(m.versions) && m.versions.length > 0, `versions ${JSON.stringify(m.versions)}`);
  expect(typeof m.platform === 'string', `platform ${m.platform}`);
  expect(m.inputs?.length === 1 && m.inputs[0].datatype === 'FP32' && m.inputs[0].shape.length === 2 && m.inputs[0].shape[0] === -1,
    `this check takes a model of one FP32 input [-1, F]; inputs ${JSON.stringify(m.inputs)}`);
  expect(m.outputs?.length >= 1 && m.outputs[0].datatype === 'FP32' && m.outputs[0].shape.length === 2 && m.outputs[0].shape[0] === -1,
    `this check takes a model whose first output is FP32 [-1, K]; outputs ${JSON.stringify(m.outputs)}`);
  Object.assign(meta, {
    http: m, version: m.versions.at(-1), input: m.inputs[0].name, features: m.inputs[0].shape[1],
    output: m.outputs[0].name, outputWidth: m.outputs[0].shape[1],
  });
  return `${m.platform}, ${meta.input} FP32 [-1,${meta.features}] -> ${meta.output} FP32 [-1,${meta.outputWidth}], versions ${m.versions}`;
});

await check('http.model.version.metadata', async () => {
  expectEqual(await getJson(`/v2/models/${MODEL}/versions/${meta.version}`), meta.http, `GET /v2/models/${MODEL}/versions/${meta.version}`);
  return `GET /v2/models/${MODEL}/versions/${meta.version} equals the unversioned metadata`;
});

await check('http.model.ready', () => getStatus(`/v2/models/${MODEL}/ready`, 200));
await check('http.model.version.ready', () => getStatus(`/v2/models/${MODEL}/versions/${meta.version}/ready`, 200));

await check('http.model.config', async () => {
  const c = await getJson(`/v2/models/${MODEL}/config`);
  expectEqual(c.name, MODEL, 'config name');
  expect(Number.isInteger(c.max_batch_size) && c.max_batch_size > 0, `max_batch_size ${c.max_batch_size}`);
  expectEqual(c.input?.[0]?.name, meta.input, 'input[0].name');
  expectEqual(c.input[0].data_type, 'TYPE_FP32', 'input[0].data_type');
  expectEqual(c.input[0].dims, [meta.features], 'input[0].dims (without the batch dimension)');
  expectEqual(c.output?.[0]?.name, meta.output, 'output[0].name');
  expectEqual(c.output[0].data_type, 'TYPE_FP32', 'output[0].data_type');
  meta.config = c;
  return `max_batch_size ${c.max_batch_size}, ${c.platform ?? ''} ${c.backend ?? ''}`.trim();
});

await check('http.model.stats', async () => {
  const s = statsOf(await getJson(`/v2/models/${MODEL}/stats`), MODEL, `GET /v2/models/${MODEL}/stats`);
  expectEqual(s.version, meta.version, 'version');
  Object.assign(stats, s);
  return `success ${s.success}, fail ${s.fail}, inference_count ${s.inferences}`;
});

await check('http.models.stats', async () => {
  const s = statsOf(await getJson('/v2/models/stats'), MODEL, 'GET /v2/models/stats');
  expectEqual(s, stats, `the ${MODEL} entry of GET /v2/models/stats against GET /v2/models/${MODEL}/stats`);
  return `lists ${MODEL} with the same counts`;
});

// inference over HTTP: JSON, binary both ways, values compared bit for bit

await check('http.infer.json', async () => {
  const a = row(A, meta.features);
  const r = await httpInfer(meta, jsonInferBody(meta, a, 1, { id: 'json-1' }), { 'content-type': 'application/json' }, 1, 'JSON infer');
  expectEqual(r.header.id, 'json-1', 'id echoed');
  expect(r.values.every(Number.isFinite), `non-finite output ${r.values}`);
  ref.single = r.values;
  const v = await httpInfer(meta, jsonInferBody(meta, a, 1), { 'content-type': 'application/json' }, 1, 'JSON infer (versioned path)',
    `/v2/models/${MODEL}/versions/${meta.version}/infer`);
  expectSameBits(v.values, ref.single, `POST /v2/models/${MODEL}/versions/${meta.version}/infer against the unversioned path`);
  return `[1,${meta.features}] -> ${meta.output} [${Array.from(r.values, (x) => x.toPrecision(6))}], also at /versions/${meta.version}/infer`;
});

await check('http.infer.json.batch', async () => {
  const rows = BATCH.map((s) => row(s, meta.features));
  const r = await httpInfer(meta, jsonInferBody(meta, concat(rows), rows.length), { 'content-type': 'application/json' }, rows.length,
    'JSON infer of 3 rows');
  expectSameBits(r.values.subarray(0, meta.outputWidth), ref.single, 'row 0 of the batch against the same row alone');
  ref.batch = r.values;
  // the protocol lets "data" be nested in the tensor's shape as well as flat
  const nested = JSON.stringify({ inputs: [{ name: meta.input, shape: [rows.length, meta.features], datatype: 'FP32', data: rows.map((x) => Array.from(x)) }] });
  const n = await httpInfer(meta, nested, { 'content-type': 'application/json' }, rows.length, 'JSON infer of 3 nested rows');
  expectSameBits(n.values, ref.batch, 'nested "data" against flat "data"');
  return `[3,${meta.features}] -> [3,${meta.outputWidth}], flat or nested "data"; row 0 bit-identical to the single-row answer`;
});

async function binaryInfer(floats, rows, binaryOut, what) {
  const { body, headerLength } = binaryInferBody(meta, floats, rows, { binaryOut });
  return httpInfer(meta, body, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(headerLength),
  }, rows, what);
}

await check('http.infer.binary', async () => {
  const r = await binaryInfer(row(A, meta.features), 1, true, 'binary in, binary out');
  expect(r.binary, 'the answer is not binary');
  expectSameBits(r.values, ref.single, 'binary output against the JSON answer');
  const b = await binaryInfer(concat(BATCH.map((s) => row(s, meta.features))), BATCH.length, true, 'binary batch of 3');
  expectSameBits(b.values, ref.batch, 'binary batch against the JSON batch');
  return 'binary_data_size in, binary_data_output out (DataView); bit-identical to JSON for 1 and 3 rows';
});

await check('http.infer.binary-in.json-out', async () => {
  const r = await binaryInfer(row(A, meta.features), 1, false, 'binary in, JSON out');
  expect(!r.binary, 'the answer is binary though binary_data_output is false');
  expectSameBits(r.values, ref.single, 'JSON output of a binary request against the JSON answer');
  return 'bit-identical';
});

await check('http.infer.json-in.binary-out', async () => {
  const body = jsonInferBody(meta, row(A, meta.features), 1, { request: { outputs: [{ name: meta.output, parameters: { binary_data: true } }] } });
  const r = await httpInfer(meta, body, { 'content-type': 'application/json' }, 1, 'JSON in, binary out');
  expect(r.binary, 'the output asked with binary_data: true is not binary');
  expectSameBits(r.values, ref.single, 'binary output of a JSON request against the JSON answer');
  return 'outputs[].parameters.binary_data; bit-identical';
});

// errors over HTTP: {"error": "..."} with the right status

await check('http.error.unknown-model', async () => {
  const e = expectError(await http('GET', '/v2/models/no-such-model'), 404, 'GET /v2/models/no-such-model', 'no-such-model');
  expectError(await http('POST', inferPath('no-such-model'), { body: jsonInferBody(meta, row(A, meta.features), 1) }), 404,
    'POST /v2/models/no-such-model/infer', 'no-such-model');
  expectError(await http('GET', `/v2/models/${MODEL}/versions/999999/ready`), 404, 'an unknown version');
  meta.notFound = e;
  return `404 ${JSON.stringify({ error: e })}`;
});

async function httpRefused(body, headers, status, what, contains) {
  const res = await http('POST', inferPath(), { body, headers });
  if (res.status === 200) counted.success++;
  else counted.fail++;
  return expectError(res, status, what, contains);
}

await check('http.error.malformed-json', async () => {
  const e = await httpRefused('{"inputs": [', { 'content-type': 'application/json' }, 400, 'malformed JSON');
  return `400 ${e}`;
});

await check('http.error.datatype', async () => {
  const body = jsonInferBody(meta, row(A, meta.features), 1).replace('"FP32"', '"INT32"');
  meta.datatypeError = await httpRefused(body, { 'content-type': 'application/json' }, 400, 'INT32 data for an FP32 input', 'INT32');
  return `400 ${meta.datatypeError}`;
});

await check('http.error.shape', async () => {
  const body = JSON.stringify({ inputs: [{ name: meta.input, shape: [1, meta.features - 1], datatype: 'FP32', data: Array(meta.features - 1).fill(0.5) }] });
  meta.shapeError = await httpRefused(body, { 'content-type': 'application/json' }, 400, `shape [1,${meta.features - 1}]`);
  return `400 ${meta.shapeError}`;
});

await check('http.error.truncated-binary', async () => {
  const { body, headerLength } = binaryInferBody(meta, row(A, meta.features), 1, { binaryOut: true, truncateBy: 10 });
  const e = await httpRefused(body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
    400, 'a binary section 10 bytes short');
  return `400 ${e}`;
});

if (LIMIT !== null) {
  await check('http.error.oversized', async () => {
    // the client is still sending when the server answers: the 413 must reach it, every time
    let e;
    for (const size of [LIMIT + 1, LIMIT + 100_000, 2 * LIMIT]) {
      const res = await http('POST', inferPath(), { body: new Uint8Array(size), headers: { 'content-type': 'application/json' } });
      e = expectError(res, 413, `a body of ${size} bytes`);
    }
    return `413 ${e}`;
  });

  await check('http.error.oversized.expect-continue', async () => {
    // node:http sends the head and waits for 100 Continue: the server refuses before the body
    const res = await new Promise((resolve, reject) => {
      const q = httpRequest(BASE + inferPath(), {
        method: 'POST', timeout: TIMEOUT_MS,
        headers: { 'content-type': 'application/json', 'content-length': LIMIT + 1, expect: '100-continue' },
      });
      q.on('continue', () => reject(new Failed(`100 Continue for a body of ${LIMIT + 1} bytes over the limit`)));
      q.on('response', (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          q.destroy();          // the body was never sent: the request cannot finish, so its connection is dropped here
          resolve({ status: r.statusCode, headers: new Headers(r.headers), text: Buffer.concat(chunks).toString() });
        });
      });
      q.on('timeout', () => q.destroy(new Failed('no answer to a head with Expect: 100-continue')));
      q.on('error', reject);
      q.flushHeaders();
    });
    return `413 ${expectError(res, 413, 'Expect: 100-continue with a Content-Length over the limit')}`;
  });
} else {
  console.log('skip http.error.oversized, http.error.oversized.expect-continue (no --max-request-bytes)');
}

/**
 * A deadline of 1 us has passed before any engine could run the request. A server may still finish
 * within it (nothing forbids being that fast), so a 200 with the right values is tolerated and
 * retried; the check needs a timeout answer within 5 tries and never a wrong one.
 */
async function pastDeadline(attempt, what) {
  for (let i = 1; i <= 5; i++) {
    const r = await attempt();
    if (r !== 'answered') return i === 1 ? r : `${r} (try ${i})`;
  }
  throw new Failed(`${what}: 5 tries with a 1 us deadline were all answered in time`);
}

await check('http.error.deadline', () => pastDeadline(async () => {
  const body = jsonInferBody(meta, row(A, meta.features), 1);
  const res = await http('POST', inferPath(), { body, headers: { 'content-type': 'application/json', 'inference-timeout-us': '1' } });
  if (res.status === 200) {
    counted.success++;
    counted.rows++;
    expectSameBits(Float32Array.from(jsonOf(res, 'deadline').outputs[0].data), ref.single, 'an answer within the deadline');
    return 'answered';
  }
  counted.fail++;
  return `504 ${expectError(res, 504, 'Inference-Timeout-Us: 1')}`;
}, 'Inference-Timeout-Us: 1'));

// the gRPC service: health, metadata, config, statistics

await check('grpc.ServerLive', async () => {
  expectEqual((await rpc('ServerLive', {})).live, true, 'live');
  return 'live: true';
});

await check('grpc.ServerReady', async () => {
  expectEqual((await rpc('ServerReady', {})).ready, true, 'ready');
  return 'ready: true';
});

await check('grpc.ModelReady', async () => {
  expectEqual((await rpc('ModelReady', { name: MODEL })).ready, true, 'ready (no version)');
  expectEqual((await rpc('ModelReady', { name: MODEL, version: meta.version })).ready, true, `ready (version ${meta.version})`);
  return `ready: true, with and without version ${meta.version}`;
});

await check('grpc.ServerMetadata', async () => {
  const s = await rpc('ServerMetadata', {});
  expectEqual({ name: s.name, version: s.version, extensions: s.extensions }, meta.server, 'ServerMetadata against GET /v2');
  return 'equals GET /v2';
});

await check('grpc.ModelMetadata', async () => {
  const m = await rpc('ModelMetadata', { name: MODEL });
  const tensors = (ts) => ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
  expectEqual({ name: m.name, versions: m.versions, platform: m.platform, inputs: tensors(m.inputs), outputs: tensors(m.outputs) },
    meta.http, `ModelMetadata against GET /v2/models/${MODEL}`);
  return `equals GET /v2/models/${MODEL}`;
});

await check('grpc.ModelConfig', async () => {
  const c = (await rpc('ModelConfig', { name: MODEL, version: meta.version })).config;
  expectEqual(c.name, MODEL, 'config.name');
  expectEqual(c.max_batch_size, meta.config.max_batch_size, 'config.max_batch_size against the HTTP config');
  expectEqual(c.input.map((t) => [t.name, t.data_type, t.dims.map(Number)]), meta.config.input.map((t) => [t.name, t.data_type, t.dims]),
    'config.input against the HTTP config');
  expectEqual(c.output.map((t) => [t.name, t.data_type, t.dims.map(Number)]), meta.config.output.map((t) => [t.name, t.data_type, t.dims]),
    'config.output against the HTTP config');
  return `decoded with model_config.proto; agrees with GET /v2/models/${MODEL}/config`;
});

// inference over gRPC

await check('grpc.ModelInfer.raw', async () => {
  const v = await grpcInfer(meta, rawRequest(meta, row(A, meta.features), 1, { id: 'grpc-raw' }), 1, 'raw_input_contents');
  expectSameBits(v, ref.single, 'raw_output_contents against the HTTP JSON answer');
  const b = await grpcInfer(meta, rawRequest(meta, concat(BATCH.map((s) => row(s, meta.features))), BATCH.length), BATCH.length, 'raw batch of 3');
  expectSameBits(b, ref.batch, 'the raw batch against the HTTP JSON batch');
  return 'raw_input_contents -> raw_output_contents; bit-identical to HTTP JSON and binary for 1 and 3 rows';
});

await check('grpc.ModelInfer.fp32_contents', async () => {
  const input = { ...grpcInput(meta, BATCH.length), contents: { fp32_contents: Array.from(concat(BATCH.map((s) => row(s, meta.features)))) } };
  const v = await grpcInfer(meta, { id: 'grpc-typed', inputs: [input], outputs: [{ name: meta.output }] }, BATCH.length, 'typed fp32_contents');
  expectSameBits(v, ref.batch, 'typed contents against the HTTP JSON batch');
  return 'typed contents (and a named output) -> bit-identical';
});

await check('grpc.ModelInfer.gzip', async () => {
  // a gzip-compressed request message (grpc-encoding: gzip), which every gRPC server must take
  const gzip = new inference.GRPCInferenceService(opt.grpc, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  try {
    const res = await new Promise((resolve, reject) => gzip.ModelInfer({ model_name: MODEL, ...rawRequest(meta, row(A, meta.features), 1) },
      { deadline: deadlineIn(TIMEOUT_MS) }, (err, r) => (err ? reject(new Failed(`gzip request: ${grpc.status[err.code]} ${err.details}`)) : resolve(r))));
    counted.success++;
    counted.rows++;
    expectSameBits(floatsOf(res.raw_output_contents[0]), ref.single, 'the answer to a gzip request');
  } finally {
    gzip.close();
  }
  return 'bit-identical';
});

await check('grpc.ModelInfer.timeout-parameter', async () => {
  const ok = await grpcInfer(meta, rawRequest(meta, row(A, meta.features), 1, { parameters: { timeout: { int64_param: 10_000_000 } } }), 1,
    'timeout parameter of 10 s');
  expectSameBits(ok, ref.single, 'an answer within a 10 s timeout parameter');
  return 'InferParameter int64_param "timeout" accepted';
});

await check('grpc.ModelStatistics', async () => {
  const g = statsOf(await rpc('ModelStatistics', { name: MODEL }), MODEL, 'ModelStatistics');
  const h = statsOf(await getJson(`/v2/models/${MODEL}/stats`), MODEL, `GET /v2/models/${MODEL}/stats`);
  expectEqual(g, h, `ModelStatistics against GET /v2/models/${MODEL}/stats`);
  const all = await rpc('ModelStatistics', {});
  expect(all.model_stats.some((m) => m.name === MODEL), 'ModelStatistics of every model does not list the model');
  return `equals the HTTP statistics (success ${g.success}, fail ${g.fail}, inference_count ${g.inferences})`;
});

// errors over gRPC

async function grpcRefused(request, code, what, contains) {
  const details = await rpcFails('ModelInfer', { model_name: MODEL, ...request }, code, what, contains);
  counted.fail++;
  return details;
}

await check('grpc.error.INVALID_ARGUMENT', async () => {
  const a = row(A, meta.features);
  const dt = await grpcRefused({ inputs: [grpcInput(meta, 1, 'INT32')], raw_input_contents: [Buffer.from(leBytes(a))] },
    'INVALID_ARGUMENT', 'INT32 for an FP32 input');
  expectEqual(dt, meta.datatypeError, 'the gRPC reason against the HTTP one for the same mistake');
  const shape = await grpcRefused({ inputs: [grpcInput(meta, 1, 'FP32', meta.features - 1)], raw_input_contents: [Buffer.from(leBytes(a.subarray(1)))] },
    'INVALID_ARGUMENT', `shape [1,${meta.features - 1}]`);
  expectEqual(shape, meta.shapeError, 'the gRPC reason against the HTTP one for the same shape');
  await grpcRefused({ inputs: [grpcInput(meta, 1)], raw_input_contents: [Buffer.from(leBytes(a)).subarray(4)] }, 'INVALID_ARGUMENT',
    'raw_input_contents 4 bytes short');
  return dt;
});

await check('grpc.error.NOT_FOUND', async () => {
  const d = await rpcFails('ModelInfer', { model_name: 'no-such-model', ...rawRequest(meta, row(A, meta.features), 1) }, 'NOT_FOUND',
    'ModelInfer of an unknown model');
  expectEqual(d, meta.notFound, 'the gRPC reason against the HTTP 404');
  await rpcFails('ModelMetadata', { name: 'no-such-model' }, 'NOT_FOUND', 'ModelMetadata of an unknown model');
  await rpcFails('ModelReady', { name: MODEL, version: '999999' }, 'NOT_FOUND', 'ModelReady of an unknown version');
  return d;
});

await check('grpc.error.UNIMPLEMENTED', async () => {
  // RepositoryIndex: in Triton's service, left out of Hotpath's (an empty request message encodes as no bytes)
  const err = await new Promise((resolve) => client.makeUnaryRequest('/inference.GRPCInferenceService/RepositoryIndex',
    () => Buffer.alloc(0), (b) => b, {}, { deadline: deadlineIn(TIMEOUT_MS) }, (e) => resolve(e)));
  expect(err && err.code === grpc.status.UNIMPLEMENTED, `RepositoryIndex: ${err ? grpc.status[err.code] + ' ' + err.details : 'answered'}`);
  return 'RepositoryIndex';
});

if (LIMIT !== null) {
  await check('grpc.error.RESOURCE_EXHAUSTED', async () => {
    const request = { model_name: MODEL, inputs: [grpcInput(meta, 1)], raw_input_contents: [Buffer.alloc(LIMIT + 1)] };
    return rpcFails('ModelInfer', request, 'RESOURCE_EXHAUSTED', `a message over ${LIMIT} bytes`);
  });
} else {
  console.log('skip grpc.error.RESOURCE_EXHAUSTED (no --max-request-bytes)');
}

await check('grpc.error.DEADLINE_EXCEEDED.timeout-parameter', () => pastDeadline(async () => {
  const request = { model_name: MODEL, ...rawRequest(meta, row(A, meta.features), 1, { parameters: { timeout: { int64_param: 1 } } }) };
  try {
    const v = floatsOf((await rpc('ModelInfer', request)).raw_output_contents[0]);
    counted.success++;
    counted.rows++;
    expectSameBits(v, ref.single, 'an answer within the timeout');
    return 'answered';
  } catch (e) {
    if (e instanceof Failed) throw e;
    counted.fail++;
    expect(e.code === grpc.status.DEADLINE_EXCEEDED, `timeout 1 us: ${grpc.status[e.code]} ${e.details}, want DEADLINE_EXCEEDED`);
    return e.details;
  }
}, 'timeout parameter of 1 us'));

if (SLOW !== null) {
  await check('grpc.error.DEADLINE_EXCEEDED.deadline', async () => {
    const slowStats = async () => statsOf(await rpc('ModelStatistics', { name: SLOW }), SLOW, `ModelStatistics of ${SLOW}`);
    // four rows at once take the model's four request slots: a lone row then waits a second for company
    const warm = await rpc('ModelInfer', { model_name: SLOW, ...rawRequest(meta, concat([A, 1, 2, 3].map((s) => row(s, meta.features))), 4) });
    expectSameBits(floatsOf(warm.raw_output_contents[0]).subarray(0, meta.outputWidth), ref.single, `${SLOW}'s answer for the reference row`);
    const before = await slowStats();
    const start = performance.now();
    await rpcFails('ModelInfer', { model_name: SLOW, ...rawRequest(meta, row(A, meta.features), 1) }, 'DEADLINE_EXCEEDED',
      'a 300 ms deadline on a row held for a second', null, deadlineIn(300));
    const took = performance.now() - start;
    expect(took < 900, `DEADLINE_EXCEEDED came after ${took.toFixed(0)} ms: the deadline was 300 ms`);
    // the server must have taken the deadline (grpc-timeout) as the row's: it times out, never runs
    let after = await slowStats();
    for (let waited = 0; after.fail === before.fail && waited < 5000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      after = await slowStats();
    }
    expectEqual({ success: after.success, fail: after.fail }, { success: before.success, fail: before.fail + 1 },
      `${SLOW}'s statistics after the deadline (the row must fail at the server, never run)`);
    return `after ${took.toFixed(0)} ms; the server counted the row failed and never ran it`;
  });
} else {
  console.log('skip grpc.error.DEADLINE_EXCEEDED.deadline (no --slow-model)');
}

// every request above, counted by the server

await check('stats.accounting', async () => {
  const h = statsOf(await getJson(`/v2/models/${MODEL}/stats`), MODEL, `GET /v2/models/${MODEL}/stats`);
  const want = { version: stats.version, success: stats.success + counted.success, fail: stats.fail + counted.fail,
    inferences: stats.inferences + counted.rows };
  expectEqual(h, want, `${MODEL}'s statistics against this run's ${counted.success} answered requests (${counted.rows} rows) and ${counted.fail} refused`);
  expectEqual(statsOf(await rpc('ModelStatistics', { name: MODEL, version: meta.version }), MODEL, 'ModelStatistics'), h,
    'ModelStatistics against the HTTP statistics');
  return `+${counted.success} success, +${counted.fail} fail, +${counted.rows} inferences over HTTP and gRPC`;
});

client.close();
console.log(`all ${passed} checks passed`);
process.exit(0);        // done: nothing left open (a connection, a timer) may keep the run waiting
