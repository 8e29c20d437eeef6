'use strict';
// @aws-sdk/client-secrets-manager (AWS SDK for JavaScript v3, pinned in package.json) against
// rekey's AWS Secrets Manager API (issue 7).
//
// Run (from this directory, after `npm ci`):
//   REKEY_BIN=/path/to/rekey /usr/bin/node --test aws_sdk_v3_test.js
//
// The shared cases (aws_sdk_cases.js) cover every operation but RotateSecret/CancelRotateSecret,
// their errors and pagination of 250 secrets with paginateListSecrets & co.  Every raw HTTP
// response is captured by a middleware at the deserialize step (innermost, so it sees the bytes
// before the SDK parses them) and validated against Debian's botocore model
// (aws_model_check.js); a response failing it fails the call that received it.  Below: SigV4
// refusals the SDK lets us provoke (wrong secret, unknown key id, clock skew, and requests
// changed after signing by a middleware placed after httpSigningMiddleware).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { AsyncLocalStorage } = require('node:async_hooks');
const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');

// Only what this file sets may configure the SDK (no profile, config file or region from the
// caller's environment).
for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'rekey-it-no-aws-config');
process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'rekey-it-no-aws-credentials');

const sm = require('@aws-sdk/client-secrets-manager');
const { RekeyServer } = require('./rekey_server');
const { ModelCheck } = require('./aws_model_check');
const { defineCases, fails, SdkError } = require('./aws_sdk_cases');

const AKID = 'AKIAREKEYNODEV30000';
const SECRET = 'rekey-node-v3-secret-access-key-01';
const srv = new RekeyServer({ name: 'aws-v3', extraArgs: ['--dev-aws-key', `${AKID}:${SECRET}`] });
const check = ModelCheck.load();
const als = new AsyncLocalStorage();
const stray = []; // exchanges outside any call (must stay empty)
const values = [];
let failed = false;

async function readAll(body) {
  if (!body) return Buffer.alloc(0);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

// Records each raw response ({op, status, headers, body, problems}) into the calling context.
const captureMiddleware = (next, context) => async (args) => {
  const out = await next(args);
  const res = out.response;
  const body = await readAll(res.body);
  res.body = new Uint8Array(body); // a copy: the SDK may re-prototype what it is given
  const op = String(context.commandName || '').replace(/Command$/, '');
  const rec = { op, status: res.statusCode, headers: res.headers, body };
  rec.problems = check.checkResponse(op, res.statusCode, res.headers, body);
  (als.getStore() || stray).push(rec);
  return out;
};

function client({ akid = AKID, secret = SECRET, ...config } = {}) {
  const c = new sm.SecretsManagerClient({
    endpoint: srv.url, region: 'us-east-1', credentials: { accessKeyId: akid, secretAccessKey: secret }, ...config,
  });
  c.middlewareStack.add(captureMiddleware, { step: 'deserialize', priority: 'low', name: 'rekeyRawCapture' });
  return c;
}

let main;

// Runs fn (which makes SDK calls) with a fresh capture list; fails if any response failed the
// model or if nothing was sent; maps SDK exceptions to SdkError.
async function captured(what, fn) {
  const seen = [];
  let result;
  let error = null;
  try {
    result = await als.run(seen, fn);
  } catch (e) {
    error = e;
  }
  const problems = seen.flatMap((x) => x.problems);
  if (problems.length) {
    failed = true;
    throw new assert.AssertionError({
      message: `${what}: responses failing the botocore model:\n  ${problems.join('\n  ')}\n` +
        seen.filter((x) => x.problems.length).map((x) => `${x.op} HTTP ${x.status}: ${x.body.toString('utf8').slice(0, 600)}`).join('\n'),
    });
  }
  assert.ok(seen.length > 0, `${what}: no HTTP response captured`);
  if (error) {
    if (error.$metadata && error.name && error.name !== 'AssertionError') {
      throw new SdkError(error.name, error.$metadata.httpStatusCode, error.message, error);
    }
    throw error;
  }
  return { result, seen };
}

function strip(out) {
  const { $metadata, ...rest } = out;
  return rest;
}

async function call(op, params, c = main) {
  const Cmd = sm[`${op}Command`];
  assert.ok(Cmd, `no ${op}Command in @aws-sdk/client-secrets-manager`);
  return strip((await captured(op, () => c.send(new Cmd(params)))).result);
}

async function pages(op, params, pageSize) {
  const paginate = sm[`paginate${op}`];
  assert.ok(paginate, `no paginate${op}`);
  const { result } = await captured(`paginate${op}`, async () => {
    const out = [];
    // (a copy: the paginator writes NextToken into its input)
    for await (const page of paginate({ client: main, ...(pageSize ? { pageSize } : {}) }, { ...params })) out.push(strip(page));
    return out;
  });
  return result;
}

function track() {
  const v = `sv-${crypto.randomUUID().replace(/-/g, '')}`;
  values.push(v);
  return v;
}

before(async () => {
  await srv.start();
  main = client();
});

after(async () => {
  console.log(`@aws-sdk/client-secrets-manager ${require('@aws-sdk/client-secrets-manager/package.json').version}: ${check.summary()}`);
  await srv.finish(values, { failed });
  assert.deepEqual(stray.map((x) => x.op), [], 'responses captured outside any call');
});

defineCases({ name: 'v3', call, pages, track, srv });

// -- SigV4 refusals ------------------------------------------------------------------------------

// A command whose signed request `tamper(request)` changes after signing.
function tampered(op, params, tamper) {
  const cmd = new sm[`${op}Command`](params);
  cmd.middlewareStack.addRelativeTo((next) => async (args) => {
    tamper(args.request);
    return next(args);
  }, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'rekeyTamper' });
  return captured(op, () => main.send(cmd)).then((r) => strip(r.result));
}

test('SigV4: wrong secret key, unknown key id; nothing says whether a secret exists', async () => {
  await call('CreateSecret', { Name: 'v3/sig/a', SecretString: track() });
  await fails('InvalidSignatureException', call('ListSecrets', {}, client({ secret: 'wrong-secret-key-000000000000000' })));
  const unknown = client({ akid: 'AKIAUNKNOWNKEY000000' });
  await fails('UnrecognizedClientException', call('ListSecrets', {}, unknown));
  const a = await fails('UnrecognizedClientException', call('GetSecretValue', { SecretId: 'v3/sig/a' }, unknown));
  const b = await fails('UnrecognizedClientException', call('GetSecretValue', { SecretId: 'v3/sig/none' }, unknown));
  assert.equal(a.awsMessage, b.awsMessage);
  const bad = client({ secret: 'wrong-secret-key-000000000000000' });
  const c = await fails('InvalidSignatureException', call('GetSecretValue', { SecretId: 'v3/sig/a' }, bad));
  const d = await fails('InvalidSignatureException', call('GetSecretValue', { SecretId: 'v3/sig/none' }, bad));
  assert.equal(c.awsMessage, d.awsMessage);
});

test('SigV4: a clock 6 minutes behind is refused (skew over 5 minutes)', async () => {
  const skewed = client({ systemClockOffset: -6 * 60 * 1000, maxAttempts: 2 });
  // The first attempt must be refused.  AWS sends a Date header with which v3 corrects its clock
  // and retries; rekey sends none today, so the call fails.  Either way the stale request is refused.
  const seen = [];
  let outcome;
  try {
    outcome = await als.run(seen, () => skewed.send(new sm.ListSecretsCommand({})));
  } catch (e) {
    outcome = e;
  }
  assert.ok(seen.length >= 1);
  assert.deepEqual(seen.flatMap((x) => x.problems), []);
  assert.equal(seen[0].status, 400);
  assert.equal(JSON.parse(seen[0].body).__type, 'InvalidSignatureException');
  if (seen.length === 1) assert.equal(outcome.name, 'InvalidSignatureException', String(outcome));
});

test('SigV4: a request changed after signing is refused; an unsigned header is not signed', async () => {
  await call('CreateSecret', { Name: 'v3/sig/b', SecretString: track() });
  // Body changed (same length): the payload hash no longer matches.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v3/sig/b' },
    (req) => { req.body = req.body.replace('v3/sig/b', 'v3/sig/c'); }));
  // A signed header changed: the operation (x-amz-target) cannot be swapped.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v3/sig/b' },
    (req) => { req.headers['x-amz-target'] = 'secretsmanager.DescribeSecret'; }));
  // The credential scope's date no longer matches X-Amz-Date.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v3/sig/b' }, (req) => {
    const auth = req.headers.authorization;
    const day = auth.match(/Credential=[^/]+\/(\d{8})\//)[1];
    const prev = new Date(Date.UTC(+day.slice(0, 4), +day.slice(4, 6) - 1, +day.slice(6, 8)) - 86400e3)
      .toISOString().slice(0, 10).replace(/-/g, '');
    req.headers.authorization = auth.replace(`/${day}/`, `/${prev}/`);
  }));
  // The signature itself altered.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v3/sig/b' }, (req) => {
    req.headers.authorization = req.headers.authorization.replace(/Signature=([0-9a-f])/, (m, c) => `Signature=${c === '0' ? '1' : '0'}`);
  }));
  // A header outside SignedHeaders may change.
  const ok = await tampered('GetSecretValue', { SecretId: 'v3/sig/b' }, (req) => { req.headers['x-rekey-unsigned'] = 'anything'; });
  assert.equal(ok.Name, 'v3/sig/b');
});
