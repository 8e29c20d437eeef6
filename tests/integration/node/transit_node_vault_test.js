'use strict';
// node-vault's transit commands against rekey's Vault transit engine (docs/api/transit.md).
//
// Run (from this directory, after `npm ci`):
//   REKEY_BIN=/path/to/rekey /usr/bin/node --test transit_node_vault_test.js
//
// node-vault sends the whole argument object (name included) as the body: transitCreateKey,
// transitReadKey, transitListKeys (LIST verb), encryptData, decryptData, rewrapData,
// transitDeleteKey; plus old ciphertexts after rotations, the min_decryption_version refusal and
// tampered ciphertexts, with node-vault's rejections (ApiResponseError).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const nodeVault = require('node-vault');
const { RekeyServer } = require('./rekey_server');

const srv = new RekeyServer({ name: 'node-transit' });
const secrets = [];

function secretValue() {
  const v = 'tv-' + crypto.randomUUID().replace(/-/g, '');
  secrets.push(v);
  return v;
}
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');
const uniq = (p) => `${p}-${crypto.randomBytes(5).toString('hex')}`;

function client() {
  return nodeVault({ apiVersion: 'v1', endpoint: srv.url, token: srv.token });
}

async function rejectsWith(promise, status, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e.response, `expected an ApiResponseError, got ${e}`);
    assert.equal(e.response.statusCode, status);
    if (message) assert.equal(e.message, message);
    return true;
  });
}

before(() => srv.start());
after(() => srv.finish(secrets));

test('create, read, list and delete keys', async () => {
  const vault = client();
  const name = uniq('node');
  await vault.transitCreateKey({ name, type: 'chacha20-poly1305' });
  const r = await vault.transitReadKey({ name });
  assert.equal(r.data.name, name);
  assert.equal(r.data.type, 'chacha20-poly1305');
  assert.equal(r.data.latest_version, 1);
  const l = await vault.transitListKeys();
  assert.ok(l.data.keys.includes(name));
  await rejectsWith(vault.transitDeleteKey({ name }), 400);
  await srv.request('POST', `/v1/transit/keys/${name}/config`, { deletion_allowed: true });
  await vault.transitDeleteKey({ name });
  await rejectsWith(vault.transitReadKey({ name }), 404);
});

test('encrypt, decrypt and rewrap across rotations', async () => {
  const vault = client();
  const name = uniq('rot');
  await vault.transitCreateKey({ name });
  const made = [];
  for (let i = 1; i <= 20; i++) {
    const value = secretValue();
    const e = await vault.encryptData({ name, plaintext: b64(value) });
    assert.ok(e.data.ciphertext.startsWith(`vault:v${i}:`), e.data.ciphertext);
    made.push([e.data.ciphertext, value]);
    await srv.request('POST', `/v1/transit/keys/${name}/rotate`);
  }
  for (const [ciphertext, value] of made) {
    const d = await vault.decryptData({ name, ciphertext });
    assert.equal(unb64(d.data.plaintext), value);
    const w = await vault.rewrapData({ name, ciphertext });
    assert.ok(w.data.ciphertext.startsWith('vault:v21:'));
    assert.equal(w.data.plaintext, undefined);
    const d2 = await vault.decryptData({ name, ciphertext: w.data.ciphertext });
    assert.equal(unb64(d2.data.plaintext), value);
  }
  // Batch through node-vault: the whole args object is the body.
  const batch = await vault.decryptData({ name, batch_input: made.map(([c]) => ({ ciphertext: c })) });
  assert.deepEqual(batch.data.batch_results.map((x) => unb64(x.plaintext)), made.map(([, v]) => v));
});

test('min_decryption_version and tampered ciphertexts are refused', async () => {
  const vault = client();
  const name = uniq('min');
  await vault.transitCreateKey({ name });
  const old = (await vault.encryptData({ name, plaintext: b64(secretValue()) })).data.ciphertext;
  await srv.request('POST', `/v1/transit/keys/${name}/rotate`);
  const r = await srv.request('POST', `/v1/transit/keys/${name}/config`, { min_decryption_version: 2 });
  assert.equal(r.status, 200);
  await rejectsWith(vault.decryptData({ name, ciphertext: old }), 400,
    'ciphertext or signature version is disallowed by policy (too old)');
  const fresh = (await vault.encryptData({ name, plaintext: b64(secretValue()) })).data.ciphertext;
  const raw = Buffer.from(fresh.slice('vault:v2:'.length), 'base64');
  raw[raw.length - 1] ^= 1;
  for (const bad of ['vault:v2:' + raw.toString('base64'), fresh.slice(0, fresh.length - 8), 'x']) {
    await rejectsWith(vault.decryptData({ name, ciphertext: bad }), 400,
      'cipher: message authentication failed');
  }
});

test('encrypt creates a missing key (root may create)', async () => {
  const vault = client();
  const name = uniq('upsert');
  const value = secretValue();
  const e = await vault.encryptData({ name, plaintext: b64(value) });
  const d = await vault.decryptData({ name, ciphertext: e.data.ciphertext });
  assert.equal(unb64(d.data.plaintext), value);
  assert.equal((await vault.transitReadKey({ name })).data.type, 'aes256-gcm96');
});
