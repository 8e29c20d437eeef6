'use strict';
// A `rekey server --dev` for the node tests (the node counterpart of ../harness.py).
//
//   const { RekeyServer } = require('./rekey_server');
//   const srv = new RekeyServer({ name: 'aws-v3', extraArgs: ['--dev-aws-key', 'ID:SECRET'] });
//   await srv.start();            // free loopback port (--listen 127.0.0.1:0 + --addr-file)
//   srv.url, srv.token, await srv.request('POST', '/v1/secret/data/x', { data: { k: 'v' } })
//   await srv.finish(values);     // stop; assert no value leaked into logs/audit; remove tmp
//
// The binary is REKEY_BIN (or argv[2]).  Each server has its own temp dir (data, logs, an audit
// file the leak check reads too) and logs at debug level (REKEY_IT_LOG_LEVEL overrides), like the
// Python harness.  REKEY_KEEP_TMP=1 keeps the temp dir; it is always kept when something failed.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const DEV_ROOT_TOKEN = 'rk-it-node-root-0123456789abcdef';
const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 15000;

function rekeyBin() {
  return process.env.REKEY_BIN ||
    (process.argv[2] && !process.argv[2].startsWith('-') ? process.argv[2] : '');
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// One HTTP request to addr ("host:port"); resolves { status, headers, body (Buffer), json }.
function httpRequest(addr, method, urlPath, { body, headers = {}, timeout = 10000 } = {}) {
  const at = addr.lastIndexOf(':');
  let data = body;
  const hdrs = { ...headers };
  if (data !== undefined && !Buffer.isBuffer(data) && typeof data !== 'string') {
    data = JSON.stringify(data);
    hdrs['Content-Type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: addr.slice(0, at), port: Number(addr.slice(at + 1)), method, path: urlPath,
      headers: hdrs, timeout,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json;
        try { json = buf.length ? JSON.parse(buf.toString('utf8')) : undefined; } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: buf, json });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// The forms a leaked value could take: raw, base64 (std/url, padded or not), hex, URL-encoded.
function encodings(value) {
  const raw = Buffer.from(value, 'utf8');
  const forms = new Set([value, raw.toString('hex'), raw.toString('hex').toUpperCase(),
    encodeURIComponent(value)]);
  for (const b of [raw.toString('base64'), raw.toString('base64url')]) {
    forms.add(b);
    forms.add(b.replace(/=+$/, ''));
  }
  return [...forms];
}

class RekeyServer {
  constructor({ name = 'node', extraArgs = [], token = DEV_ROOT_TOKEN, audit = true } = {}) {
    this.name = name;
    this.extraArgs = extraArgs;
    this.token = token;
    this.audit = audit;
    this.proc = null;
    this.url = null;
    this.addr = null;
    this.failed = false;
    this.tmp = null;
  }

  async start() {
    const bin = rekeyBin();
    assert.ok(bin, 'set REKEY_BIN (or pass the rekey binary path as argv[2])');
    assert.ok(fs.existsSync(bin), `REKEY_BIN=${bin} does not exist`);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `rekey-it-${this.name}-`));
    const addrFile = path.join(this.tmp, 'addr');
    this.logPath = path.join(this.tmp, 'server.stderr.log');
    this.outPath = path.join(this.tmp, 'server.stdout.log');
    this.auditPath = path.join(this.tmp, 'audit.log');
    const err = fs.openSync(this.logPath, 'a');
    const out = fs.openSync(this.outPath, 'a');
    const args = ['server', '--dev', '--listen', '127.0.0.1:0',
      '--data-dir', path.join(this.tmp, 'data'), '--dev-root-token', this.token,
      '--addr-file', addrFile, '--log-level', process.env.REKEY_IT_LOG_LEVEL || 'debug',
      ...this.extraArgs];
    this.proc = spawn(bin, args, { stdio: ['ignore', out, err] });
    fs.closeSync(err);
    fs.closeSync(out);
    let exited = null;
    this.proc.on('exit', (code, sig) => { exited = `code ${code} signal ${sig}`; });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && !exited) {
      let addr = '';
      try { addr = fs.readFileSync(addrFile, 'utf8').trim().replace(/^http:\/\//, ''); } catch (e) { /* not yet */ }
      if (/^[\d.]+:[1-9]\d*$/.test(addr)) {
        const health = await httpRequest(addr, 'GET', '/v1/sys/health', { timeout: 2000 })
          .then((r) => r.status, () => 0);
        if (health === 200) {
          this.addr = addr;
          this.url = `http://${addr}`;
          if (this.audit) {
            const r = await this.request('PUT', '/v1/sys/audit/harness',
              { type: 'file', options: { file_path: this.auditPath, fsync: 'never' } });
            if (r.status !== 204) {
              this.failed = true;
              throw new Error(`enabling the audit device: HTTP ${r.status} ${r.body}`);
            }
          }
          return this;
        }
      }
      await sleep(50);
    }
    this.failed = true;
    await this.stop();
    throw new Error(`rekey server not ready (${exited ? 'exited: ' + exited : 'timeout'})\n` +
      this.logTail());
  }

  // A request to the Vault API with the root token.
  request(method, urlPath, body) {
    return httpRequest(this.addr, method, urlPath,
      { body, headers: { 'X-Vault-Token': this.token } });
  }

  async stop() {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await done;
      clearTimeout(t);
    }
  }

  read(p) {
    try { return fs.readFileSync(p, 'utf8'); } catch (e) { return ''; }
  }

  logTail(n = 40) {
    return this.read(this.logPath).split('\n').slice(-n).join('\n');
  }

  // Stops the server, then asserts that none of `values` (nor the root token, outside the stdout
  // banner) appears in its logs or audit file, in any encoding.  Removes the temp dir unless
  // something failed (or REKEY_KEEP_TMP is set).
  async finish(values = [], { failed = false } = {}) {
    await this.stop();
    if (!this.tmp) return;
    const logs = this.read(this.logPath) + this.read(this.outPath);
    const audit = fs.readdirSync(this.tmp).filter((f) => f.startsWith('audit.log'))
      .map((f) => this.read(path.join(this.tmp, f))).join('');
    const leaked = [];
    for (const v of values) {
      for (const form of encodings(v)) {
        if (logs.includes(form)) leaked.push([v, 'server log']);
        if (audit.includes(form)) leaked.push([v, 'audit file']);
      }
    }
    for (const form of encodings(this.token)) {
      if (this.read(this.logPath).includes(form) || audit.includes(form)) leaked.push(['<root token>', 'log/audit']);
    }
    console.log(`secret-leak check (${this.name}): ${values.length} values checked against ` +
      `${logs.length} bytes of server output and ${audit.length} of audit, ${leaked.length} found`);
    if (leaked.length || failed || this.failed || process.env.REKEY_KEEP_TMP) {
      console.log(`kept ${this.tmp} (log ${this.logPath})`);
    } else {
      fs.rmSync(this.tmp, { recursive: true, force: true });
    }
    assert.deepEqual(leaked, [], `secret values found in ${this.tmp}`);
  }
}

module.exports = { RekeyServer, DEV_ROOT_TOKEN, httpRequest, encodings, rekeyBin, sleep };
