'use strict';
// node-vault (npm, pinned in package.json) against rekey's Vault KV v2 API.
//
// Run (from this directory, after `npm ci`):
//   REKEY_BIN=/path/to/rekey /usr/bin/node --test node_vault_test.js
//   /usr/bin/node node_vault_test.js /path/to/rekey        (binary as argv[2] also works)
//
// Spawns `rekey server --dev` on a free loopback port (rekey_server.js, like ../harness.py),
// covers node-vault write/read/update/list/delete on secret/data/... and secret/metadata/...
// (`list` sends the LIST verb; `noCustomHTTPVerbs` sends GET ?list=1), health,
// tokenLookupSelf, a 403 for a bad token, and checks no secret value reached the server log.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const nodeVault = require('node-vault');
const { RekeyServer } = require('./rekey_server');

const srv = new RekeyServer({ name: 'node' });
const TOKEN = srv.token;

const secrets = [];
function secretValue() {
  const v = 'sv-' + crypto.randomUUID().replace(/-/g, '');
  secrets.push(v);
  return v;
}
function uniq(prefix) {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
}

function client(opts = {}) {
  return nodeVault({ apiVersion: 'v1', endpoint: srv.url, token: TOKEN, ...opts });
}

async function rejectsWithStatus(promise, status, what) {
  await assert.rejects(promise, (e) => {
    assert.ok(e.response, `${what}: expected an ApiResponseError, got ${e}`);
    assert.equal(e.response.statusCode, status, `${what}: HTTP status`);
    return true;
  }, what);
}

before(() => srv.start());

// Stops the server and checks that no secret value reached its logs or audit file.
after(() => srv.finish(secrets));

test('health and tokenLookupSelf', async () => {
  const vault = client();
  const h = await vault.health();
  assert.equal(h.initialized, true);
  assert.equal(h.sealed, false);
  const me = await vault.tokenLookupSelf();
  assert.ok(me.data.policies.includes('root'), `policies: ${JSON.stringify(me.data.policies)}`);
});

test('write / read / update on secret/data', async () => {
  const vault = client();
  const p = uniq('node/rw');
  const v1 = secretValue();
  const v2 = secretValue();
  const w = await vault.write(`secret/data/${p}`, { data: { password: v1, user: 'app' } });
  assert.equal(w.data.version, 1);
  assert.equal(w.data.deletion_time, '');
  let r = await vault.read(`secret/data/${p}`);
  assert.deepEqual(r.data.data, { password: v1, user: 'app' });
  assert.equal(r.data.metadata.version, 1);

  const w2 = await vault.write(`secret/data/${p}`, { options: { cas: 1 }, data: { password: v2 } });
  assert.equal(w2.data.version, 2);
  await rejectsWithStatus(vault.write(`secret/data/${p}`, { options: { cas: 1 }, data: { password: v1 } }),
    400, 'stale cas');

  // node-vault update = PATCH with application/merge-patch+json
  const extra = secretValue();
  const u = await vault.update(`secret/data/${p}`, { data: { extra } });
  assert.equal(u.data.version, 3);
  r = await vault.read(`secret/data/${p}`);
  assert.deepEqual(r.data.data, { password: v2, extra });

  r = await vault.read(`secret/data/${p}?version=1`);
  assert.equal(r.data.data.password, v1);
});

test('list on secret/metadata (LIST verb and GET ?list=1)', async () => {
  const vault = client();
  const base = uniq('node/list');
  for (const sub of ['a', 'b', 'dir/c']) {
    await vault.write(`secret/data/${base}/${sub}`, { data: { k: secretValue() } });
  }
  const l1 = await vault.list(`secret/metadata/${base}`);
  assert.deepEqual([...l1.data.keys].sort(), ['a', 'b', 'dir/']);
  const l2 = await client({ noCustomHTTPVerbs: true }).list(`secret/metadata/${base}`);
  assert.deepEqual([...l2.data.keys].sort(), ['a', 'b', 'dir/']);
  await rejectsWithStatus(vault.list(`secret/metadata/${uniq('node/none')}`), 404, 'list of a missing folder');
});

test('metadata read and write', async () => {
  const vault = client();
  const p = uniq('node/meta');
  await vault.write(`secret/data/${p}`, { data: { k: secretValue() } });
  await vault.write(`secret/data/${p}`, { data: { k: secretValue() } });
  const m = await vault.read(`secret/metadata/${p}`);
  assert.equal(m.data.current_version, 2);
  assert.deepEqual(Object.keys(m.data.versions).sort(), ['1', '2']);
  await vault.write(`secret/metadata/${p}`, { max_versions: 5, custom_metadata: { owner: 'node' } });
  const m2 = await vault.read(`secret/metadata/${p}`);
  assert.equal(m2.data.max_versions, 5);
  assert.deepEqual(m2.data.custom_metadata, { owner: 'node' });
});

test('delete on secret/data and secret/metadata', async () => {
  const vault = client();
  const p = uniq('node/del');
  await vault.write(`secret/data/${p}`, { data: { k: secretValue() } });
  await vault.delete(`secret/data/${p}`); // soft delete of the latest version (204)
  await rejectsWithStatus(vault.read(`secret/data/${p}`), 404, 'read of a soft-deleted version');
  await vault.write(`secret/undelete/${p}`, { versions: [1] });
  const r = await vault.read(`secret/data/${p}`);
  assert.equal(r.data.metadata.version, 1);
  await vault.delete(`secret/metadata/${p}`); // all versions + metadata
  await rejectsWithStatus(vault.read(`secret/metadata/${p}`), 404, 'metadata after delete');
  await rejectsWithStatus(vault.read(`secret/data/${p}`), 404, 'data after metadata delete');
  await vault.delete(`secret/data/${uniq('node/never')}`); // missing: still 204
});

test('bad token gets 403 permission denied', async () => {
  const bad = client({ token: 'bad-' + crypto.randomBytes(8).toString('hex') });
  await assert.rejects(bad.read('secret/data/node/anything'), (e) => {
    assert.equal(e.response && e.response.statusCode, 403);
    assert.equal(e.message, 'permission denied');
    return true;
  });
  await assert.rejects(bad.write('secret/data/node/anything', { data: { k: 'v' } }),
    (e) => e.response && e.response.statusCode === 403);
  await assert.rejects(bad.list('secret/metadata/node'),
    (e) => e.response && e.response.statusCode === 403);
});
