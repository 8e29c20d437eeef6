'use strict';
// npm aws-sdk (AWS SDK for JavaScript v2, pinned in package.json) against rekey's AWS Secrets
// Manager API (issue 7).
//
// Run (from this directory, after `npm ci`):
//   REKEY_BIN=/path/to/rekey /usr/bin/node --test aws_sdk_v2_test.js
//
// The shared cases (aws_sdk_cases.js) cover every operation but RotateSecret/CancelRotateSecret,
// their errors and pagination of 250 secrets with the SDK's eachPage paginator.  Every raw HTTP
// response is captured from the request's 'extractData'/'extractError' events (one per attempt,
// with httpResponse.body complete) and validated against Debian's botocore model
// (aws_model_check.js); a response failing it fails the call that received it.  Below: SigV4
// refusals the SDK lets us provoke (wrong secret, unknown key id, clock skew, and requests
// changed by a 'sign' listener that runs after the SDK's signer).

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
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';

const AWS = require('aws-sdk');
const { RekeyServer } = require('./rekey_server');
const { ModelCheck } = require('./aws_model_check');
const { defineCases, fails, SdkError } = require('./aws_sdk_cases');

const AKID = 'AKIAREKEYNODEV20000';
const SECRET = 'rekey-node-v2-secret-access-key-01';
const srv = new RekeyServer({ name: 'aws-v2', extraArgs: ['--dev-aws-key', `${AKID}:${SECRET}`] });
const check = ModelCheck.load();
const als = new AsyncLocalStorage();
const stray = []; // exchanges outside any call (must stay empty)
const values = [];
let failed = false;

function client({ akid = AKID, secret = SECRET, ...config } = {}) {
  const c = new AWS.SecretsManager({
    endpoint: srv.url, region: 'us-east-1', accessKeyId: akid, secretAccessKey: secret, ...config,
  });
  c.customizeRequests((req) => {
    const store = als.getStore() || stray;
    const op = c.api.operations[req.operation].name;
    const record = (resp) => {
      const h = resp.httpResponse;
      if (!h || !h.statusCode) return; // no HTTP response (network error)
      const body = Buffer.from(h.body || '');
      store.push({ op, status: h.statusCode, headers: h.headers, body, problems: check.checkResponse(op, h.statusCode, h.headers, body) });
    };
    req.on('extractData', record);
    req.on('extractError', record);
  });
  return c;
}

let main;

// Runs fn (which makes SDK calls) with a fresh capture list; fails if any response failed the
// model or if nothing was sent; maps SDK errors to SdkError.
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
    if (error.code && error.statusCode) throw new SdkError(error.code, error.statusCode, error.message, error);
    throw error;
  }
  return result;
}

const method = (op) => op.charAt(0).toLowerCase() + op.slice(1);

function call(op, params, c = main) {
  assert.equal(typeof c[method(op)], 'function', `aws-sdk SecretsManager has no ${method(op)}`);
  return captured(op, () => c[method(op)](params).promise());
}

// Every page through request.eachPage (MaxResults = page size).
function pages(op, params, pageSize) {
  return captured(`${op}.eachPage`, () => new Promise((resolve, reject) => {
    const out = [];
    const req = main[method(op)]({ ...params, ...(pageSize ? { MaxResults: pageSize } : {}) });
    assert.ok(req.isPageable(), `${op} is not pageable in aws-sdk v2`);
    req.eachPage((err, data, done) => {
      if (err) reject(err);
      else if (data === null) resolve(out);
      else {
        out.push(data);
        done();
      }
    });
  }));
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
  console.log(`aws-sdk ${AWS.VERSION}: ${check.summary()}`);
  await srv.finish(values, { failed });
  assert.deepEqual(stray.map((x) => x.op), [], 'responses captured outside any call');
});

defineCases({ name: 'v2', call, pages, track, srv });

// -- SigV4 refusals ------------------------------------------------------------------------------

// A call whose signed request `tamper(httpRequest)` changes: the listener is added after the
// SDK's own 'sign' listener, so it runs on the signed request.
function tampered(op, params, tamper) {
  return captured(op, () => {
    const req = main[method(op)](params);
    req.on('sign', () => tamper(req.httpRequest));
    return req.promise();
  });
}

test('SigV4: wrong secret key, unknown key id; nothing says whether a secret exists', async () => {
  await call('CreateSecret', { Name: 'v2/sig/a', SecretString: track() });
  const bad = client({ secret: 'wrong-secret-key-000000000000000' });
  await fails('InvalidSignatureException', call('ListSecrets', {}, bad));
  const unknown = client({ akid: 'AKIAUNKNOWNKEY000000' });
  await fails('UnrecognizedClientException', call('ListSecrets', {}, unknown));
  const a = await fails('UnrecognizedClientException', call('GetSecretValue', { SecretId: 'v2/sig/a' }, unknown));
  const b = await fails('UnrecognizedClientException', call('GetSecretValue', { SecretId: 'v2/sig/none' }, unknown));
  assert.equal(a.awsMessage, b.awsMessage);
  const c = await fails('InvalidSignatureException', call('GetSecretValue', { SecretId: 'v2/sig/a' }, bad));
  const d = await fails('InvalidSignatureException', call('GetSecretValue', { SecretId: 'v2/sig/none' }, bad));
  assert.equal(c.awsMessage, d.awsMessage);
});

test('SigV4: a clock 6 minutes behind is refused (skew over 5 minutes)', async () => {
  const skewed = client({ systemClockOffset: -6 * 60 * 1000 });
  const e = await fails('InvalidSignatureException', call('ListSecrets', {}, skewed));
  assert.match(e.awsMessage, /expired|skew|time/i);
});

test('SigV4: a request changed after signing is refused; an unsigned header is not signed', async () => {
  await call('CreateSecret', { Name: 'v2/sig/b', SecretString: track() });
  // Body changed (same length): the payload hash no longer matches.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v2/sig/b' },
    (r) => { r.body = r.body.replace('v2/sig/b', 'v2/sig/c'); }));
  // A signed header changed: the operation (X-Amz-Target) cannot be swapped.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v2/sig/b' },
    (r) => { r.headers['X-Amz-Target'] = 'secretsmanager.DescribeSecret'; }));
  // The credential scope's date no longer matches X-Amz-Date.
  await fails('InvalidSignatureException', tampered('GetSecretValue', { SecretId: 'v2/sig/b' }, (r) => {
    const auth = r.headers.Authorization;
    const day = auth.match(/Credential=[^/]+\/(\d{8})\//)[1];
    const prev = new Date(Date.UTC(+day.slice(0, 4), +day.slice(4, 6) - 1, +day.slice(6, 8)) - 86400e3)
      .toISOString().slice(0, 10).replace(/-/g, '');
    r.headers.Authorization = auth.replace(`/${day}/`, `/${prev}/`);
  }));
  // Content-Type is not signed by aws-sdk v2; a header outside SignedHeaders may change.
  const auth = [];
  const ok = await tampered('GetSecretValue', { SecretId: 'v2/sig/b' }, (r) => {
    auth.push(r.headers.Authorization);
    r.headers['X-Rekey-Unsigned'] = 'anything';
  });
  assert.equal(ok.Name, 'v2/sig/b');
  assert.doesNotMatch(auth[0], /SignedHeaders=[^,]*content-type/);
});
