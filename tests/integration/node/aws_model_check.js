'use strict';
// Validates raw AWS Secrets Manager responses (HTTP status, headers, body bytes) against the
// botocore service model Debian's python3-botocore ships:
//   /usr/lib/python3/dist-packages/botocore/data/secretsmanager/2017-10-17/service-2.json[.gz]
// (REKEY_BOTOCORE_MODEL overrides the path).
//
// Success bodies: the operation's output shape, recursively: types (timestamps must be JSON
// numbers, blobs base64 strings, integers integral), required members, enums, string/list
// lengths and blob sizes, numeric ranges, no nulls, and no member the model does not know.
// Error bodies: {"__type", "Message"} only, x-amzn-ErrorType equal to the code, the code modelled
// for the operation or a common AWS error, HTTP 400 (500 for InternalServiceError).
//
// botocore 1.29.27's model predates BatchGetSecretValue and a few newer members (e.g.
// NextRotationDate).  Those are checked against the model npm's aws-sdk v2 ships
// (apis/secretsmanager-2017-10-17.min.json), which is newer but keeps only the types (no required,
// enums or lengths; the upstream BatchGetSecretValue output has no required members or enums).
// A member known to neither model is an error.
//
//   const { ModelCheck } = require('./aws_model_check');
//   const check = ModelCheck.load();
//   const problems = check.checkResponse('GetSecretValue', 200, headers, bodyBuffer);

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const DEFAULT_MODEL =
  '/usr/lib/python3/dist-packages/botocore/data/secretsmanager/2017-10-17/service-2.json';

// Errors any AWS JSON service may answer, besides the ones an operation models.
const COMMON_ERRORS = new Set([
  'AccessDeniedException', 'IncompleteSignature', 'IncompleteSignatureException',
  'InternalFailure', 'InvalidAction', 'InvalidClientTokenId', 'InvalidSignatureException',
  'MissingAuthenticationToken', 'MissingAuthenticationTokenException', 'NotAuthorized',
  'RequestExpired', 'SerializationException', 'ServiceUnavailable', 'ThrottlingException',
  'UnknownOperationException', 'UnrecognizedClientException', 'ValidationError',
  'ValidationException',
]);

function loadJson(file) {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  if (fs.existsSync(file + '.gz')) return JSON.parse(zlib.gunzipSync(fs.readFileSync(file + '.gz')).toString('utf8'));
  return null;
}

function loadV2Model() {
  try {
    const dir = path.dirname(require.resolve('aws-sdk/package.json'));
    return loadJson(path.join(dir, 'apis', 'secretsmanager-2017-10-17.min.json'));
  } catch (e) {
    return null;
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class ModelCheck {
  constructor(model, v2 = null, modelPath = '') {
    this.model = model;
    this.shapes = model.shapes;
    this.v2 = v2;
    this.modelPath = modelPath;
    this.counts = new Map(); // "Op" / "Op:error" / "Op (aws-sdk v2 model)" -> responses checked
  }

  static load(file = process.env.REKEY_BOTOCORE_MODEL || DEFAULT_MODEL) {
    const model = loadJson(file);
    if (!model) throw new Error(`no botocore model at ${file}[.gz]: install python3-botocore`);
    return new ModelCheck(model, loadV2Model(), file);
  }

  count(key) {
    this.counts.set(key, (this.counts.get(key) || 0) + 1);
  }

  summary() {
    const n = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...this.counts.entries()].sort().map(([k, v]) => `${k} ${v}`).join(', ');
    return `${n} HTTP responses validated against ${this.modelPath}: ${parts}`;
  }

  // v2 min.json: a member without "type" or "shape" is a string; "shape" refers to shapes.
  v2Resolve(def) {
    let d = def || {};
    while (d.shape) d = this.v2.shapes[d.shape];
    return d.type ? d : { ...d, type: 'string' };
  }

  checkResponse(op, status, headers, body) {
    const problems = [];
    const h = {};
    for (const [k, v] of Object.entries(headers || {})) h[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
    if (h['content-type'] !== undefined && h['content-type'] !== 'application/x-amz-json-1.1') {
      problems.push(`${op}: Content-Type ${h['content-type']}`);
    }
    const opm = this.model.operations[op];
    const v2op = this.v2 && this.v2.operations[op];
    if (!opm && !v2op) return problems.concat(`${op}: operation in neither model`);
    const text = Buffer.from(body || '').toString('utf8');
    let doc;
    try {
      doc = text.trim() ? JSON.parse(text) : undefined;
    } catch (e) {
      return problems.concat(`${op}: body is not JSON (${e.message}): ${text.slice(0, 200)}`);
    }
    if (status === 200) {
      const out = opm ? opm.output && opm.output.shape : null;
      const v2out = v2op ? v2op.output : null;
      if (!out && !v2out) {
        if (doc !== undefined && !(isObject(doc) && Object.keys(doc).length === 0)) {
          problems.push(`${op}: no output modelled, got ${text.slice(0, 200)}`);
        }
      } else if (!isObject(doc)) {
        problems.push(`${op}: output is not a JSON object: ${text.slice(0, 200)}`);
      } else if (out) {
        this.check(out, v2out, doc, op, problems);
      } else {
        this.checkV2(v2out, doc, op, problems);
      }
      this.count(opm ? op : `${op} (aws-sdk v2 model)`);
      return problems;
    }
    if (!isObject(doc)) return problems.concat(`${op}: error body is not a JSON object: ${text.slice(0, 200)}`);
    let code = doc.__type;
    if (typeof code !== 'string' || !code) return problems.concat(`${op}: error without __type: ${text}`);
    code = code.slice(code.lastIndexOf('#') + 1);
    if (typeof doc.Message !== 'string') problems.push(`${op}: error ${code} without a Message string: ${text}`);
    const extra = Object.keys(doc).filter((k) => k !== '__type' && k !== 'Message');
    if (extra.length) problems.push(`${op}: error ${code} has extra members ${extra}`);
    if ((h['x-amzn-errortype'] || '').split(':')[0] !== code) {
      problems.push(`${op}: x-amzn-ErrorType ${h['x-amzn-errortype']} but __type ${code}`);
    }
    const modelled = new Set(opm ? (opm.errors || []).map((e) => e.shape)
      : ['ResourceNotFoundException', 'InvalidParameterException', 'InvalidRequestException',
        'DecryptionFailure', 'InternalServiceError', 'InvalidNextTokenException']);
    if (!modelled.has(code) && !COMMON_ERRORS.has(code)) {
      problems.push(`${op}: error code ${code} is neither modelled for the operation ` +
        `(${[...modelled].sort()}) nor a common AWS error`);
    }
    const want = code === 'InternalServiceError' || code === 'InternalFailure' ? 500 : 400;
    if (status !== want && !(COMMON_ERRORS.has(code) && (status === 400 || status === 403))) {
      problems.push(`${op}: ${code} answered with HTTP ${status} (expected ${want})`);
    }
    this.count(`${op}:error`);
    return problems;
  }

  // Checks v against botocore shape `name`; v2def is the same place in the aws-sdk v2 model (or
  // null), consulted for members botocore 1.29 does not know.
  check(name, v2def, v, where, problems) {
    const s = this.shapes[name];
    const v2s = v2def && this.v2 ? this.v2Resolve(v2def) : null;
    if (v === null || v === undefined) {
      problems.push(`${where}: null (members without a value must be left out)`);
      return;
    }
    switch (s.type) {
      case 'structure': {
        if (!isObject(v)) return void problems.push(`${where}: ${name} expected an object, got ${JSON.stringify(v)}`);
        for (const req of s.required || []) {
          if (!(req in v)) problems.push(`${where}: required member ${req} missing`);
        }
        for (const [k, mv] of Object.entries(v)) {
          const m = s.members[k];
          const v2m = v2s && v2s.members ? v2s.members[k] : undefined;
          if (m) {
            this.check(m.shape, v2m || null, mv, `${where}.${k}`, problems);
          } else if (v2m) {
            this.checkV2(v2m, mv, `${where}.${k}`, problems);
          } else {
            problems.push(`${where}: member ${k} is in neither model`);
          }
        }
        return;
      }
      case 'list':
        if (!Array.isArray(v)) return void problems.push(`${where}: expected a list, got ${JSON.stringify(v)}`);
        this.bounds(s, v.length, where, 'length', problems);
        v.forEach((e, i) => this.check(s.member.shape, v2s ? v2s.member : null, e, `${where}[${i}]`, problems));
        return;
      case 'map':
        if (!isObject(v)) return void problems.push(`${where}: expected a map, got ${JSON.stringify(v)}`);
        for (const [k, e] of Object.entries(v)) {
          this.check(s.key.shape, null, k, `${where}{key ${k}}`, problems);
          this.check(s.value.shape, v2s ? v2s.value : null, e, `${where}{${k}}`, problems);
        }
        return;
      case 'string':
        if (typeof v !== 'string') return void problems.push(`${where}: expected a string, got ${JSON.stringify(v)}`);
        if (s.enum && !s.enum.includes(v)) problems.push(`${where}: ${JSON.stringify(v)} not in enum ${s.enum}`);
        this.bounds(s, [...v].length, where, 'length', problems);
        return;
      default:
        this.scalar(s.type, s, v, where, problems);
    }
  }

  // Types only (the aws-sdk v2 model keeps nothing else).
  checkV2(def, v, where, problems) {
    const s = this.v2Resolve(def);
    if (v === null || v === undefined) return void problems.push(`${where}: null (members without a value must be left out)`);
    switch (s.type) {
      case 'structure':
        if (!isObject(v)) return void problems.push(`${where}: expected an object, got ${JSON.stringify(v)}`);
        for (const [k, mv] of Object.entries(v)) {
          if (!s.members[k]) problems.push(`${where}: member ${k} is in neither model`);
          else this.checkV2(s.members[k], mv, `${where}.${k}`, problems);
        }
        return;
      case 'list':
        if (!Array.isArray(v)) return void problems.push(`${where}: expected a list, got ${JSON.stringify(v)}`);
        v.forEach((e, i) => this.checkV2(s.member, e, `${where}[${i}]`, problems));
        return;
      case 'map':
        if (!isObject(v)) return void problems.push(`${where}: expected a map, got ${JSON.stringify(v)}`);
        for (const [k, e] of Object.entries(v)) this.checkV2(s.value, e, `${where}{${k}}`, problems);
        return;
      case 'string':
        if (typeof v !== 'string') problems.push(`${where}: expected a string, got ${JSON.stringify(v)}`);
        return;
      default:
        this.scalar(s.type, {}, v, where, problems);
    }
  }

  scalar(type, s, v, where, problems) {
    switch (type) {
      case 'blob':
        if (typeof v !== 'string' || !B64.test(v)) return void problems.push(`${where}: blob must be a base64 string`);
        this.bounds(s, Buffer.from(v, 'base64').length, where, 'size', problems);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') problems.push(`${where}: expected a boolean, got ${JSON.stringify(v)}`);
        return;
      case 'integer':
      case 'long':
        if (!Number.isInteger(v)) return void problems.push(`${where}: expected an integer, got ${JSON.stringify(v)}`);
        this.bounds(s, v, where, 'value', problems);
        return;
      case 'timestamp': // json protocol: epoch seconds as a JSON number
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
          problems.push(`${where}: timestamp must be a positive JSON number, got ${JSON.stringify(v)}`);
        }
        return;
      default:
        problems.push(`${where}: unhandled shape type ${type}`);
    }
  }

  bounds(s, n, where, what, problems) {
    if (s.min !== undefined && n < s.min) problems.push(`${where}: ${what} ${n} below the model's min ${s.min}`);
    if (s.max !== undefined && n > s.max) problems.push(`${where}: ${what} ${n} above the model's max ${s.max}`);
  }
}

module.exports = { ModelCheck, COMMON_ERRORS, DEFAULT_MODEL };
