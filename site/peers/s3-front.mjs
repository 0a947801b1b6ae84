// The demo site's S3 endpoint: a front that checks the AWS Signature Version 4 of every request
// with AWS's own signer (@smithy/signature-v4) and hands the requests it accepts, streamed, to
// s3rver on an internal port (s3rver checks no signature at all). The front also does what
// s3rver 3.7.1 lacks and Portico needs:
//   - PUT/GET/DELETE ?lifecycle: the configuration is kept per bucket in STATE_DIR/lifecycle and
//     enforced by a periodic sweep (Expiration Days/Date, AbortIncompleteMultipartUpload);
//   - AbortMultipartUpload (DELETE ?uploadId=) and ListParts (GET ?uploadId=);
//   - S3's checks around multipart uploads: UploadPart to an unknown upload is NoSuchUpload, and
//     CompleteMultipartUpload refuses a missing part or a wrong ETag (InvalidPart), parts out of
//     order (InvalidPartOrder) and parts but the last under 5 MiB (EntityTooSmall);
//   - us-east-1's answer to re-creating one's own bucket (200, where s3rver says 409);
//   - x-amz-content-sha256 and Content-MD5 are checked against the body (bodies are streamed;
//     the last chunk is held back until the digest is known, so a mismatch never completes).
//
// usage: node s3-front.mjs CONFIG.json
//   CONFIG: {host, port, region, credentials: [{access_key_id, secret_access_key}],
//            backend: {host, port, access_key_id, secret_access_key}, data_dir, state_dir,
//            min_part_size}
//   data_dir is s3rver's --directory (the front reads its multipart layout there).
// env: S3_FRONT_DAY_SECONDS   how long a lifecycle "day" is, in seconds (86400; tests shorten it)
//      S3_FRONT_SWEEP_SECONDS how often the lifecycle rules are applied (60, or a quarter of a
//                             short day)
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { PassThrough, Transform, pipeline } from 'node:stream';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4, getCanonicalHeaders, moveHeadersToQuery, prepareRequest } from '@smithy/signature-v4';
import xmlParser from 'fast-xml-parser';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const REGION = config.region ?? 'us-east-1';
const DAY_MS = Number(process.env.S3_FRONT_DAY_SECONDS || 86400) * 1000;
const SWEEP_MS = Number(process.env.S3_FRONT_SWEEP_SECONDS || Math.min(60, DAY_MS / 4000)) * 1000;
const MIN_PART_SIZE = config.min_part_size ?? 5 * 1024 * 1024;
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES = 7 * 24 * 3600;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
// s3rver's FilesystemStore keeps a multipart upload in <data>/<bucket>/._S3rver_uploads/<id>/:
// `key`, `metadata`, and each part as `<n>` with its hex MD5 in `<n>.md5`.
const UPLOADS = '._S3rver_uploads';
const LIFECYCLE_DIR = path.join(config.state_dir, 'lifecycle');
fs.mkdirSync(LIFECYCLE_DIR, { recursive: true });

const QUERY_AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires',
  'X-Amz-SignedHeaders', 'X-Amz-Signature'];
const STRIPPED_PARAMS = new Set([...QUERY_AUTH_PARAMS, 'X-Amz-Security-Token']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'expect']);

function newSigner(accessKeyId, secretAccessKey) {
  return new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: REGION, service: 's3',
    sha256: Sha256, uriEscapePath: false });
}
const signers = new Map(config.credentials.map((c) => [c.access_key_id, newSigner(c.access_key_id, c.secret_access_key)]));
const backendSigner = newSigner(config.backend.access_key_id, config.backend.secret_access_key);
const backendAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// ------------------------------------------------------------------------------ errors and XML
class S3Error extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}
const noSuchBucket = (bucket) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
const noSuchUpload = (uploadId) => new S3Error(404, 'NoSuchUpload',
  'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  { UploadId: uploadId });
const malformedXml = () => new S3Error(400, 'MalformedXML',
  'The XML you provided was not well-formed or did not validate against our published schema');

function esc(value) {
  return String(value)
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}
function unescapeXml(text) {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (m, e) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}
function parseXml(body) {
  const text = body.toString('utf8');
  if (!text.trim() || xmlParser.validate(text) !== true) throw malformedXml();
  return xmlParser.parse(text, { ignoreAttributes: true, parseNodeValue: false, parseTrueNumberOnly: false,
    trimValues: true, tagValueProcessor: (v) => unescapeXml(v), ignoreNameSpace: true });
}
const list = (v) => (v === undefined || v === null || v === '' ? [] : [].concat(v));

function sendXml(res, ctx, status, xml, extraHeaders = {}) {
  const body = Buffer.from(xml === undefined ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  const headers = { 'x-amz-request-id': ctx.id, 'x-amz-id-2': ctx.hostId, ...extraHeaders };
  if (xml !== undefined) headers['content-type'] = 'application/xml';
  if (status !== 204) headers['content-length'] = body.length;
  res.writeHead(status, headers);
  res.end(ctx.method === 'HEAD' || status === 204 ? undefined : body);
  ctx.status = status;
}

function sendError(req, res, ctx, err) {
  if (!(err instanceof S3Error)) {
    console.error(`${ctx.id} internal error:`, err);
    err = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  if (res.headersSent) { res.destroy(); return; }
  const detail = Object.entries(err.detail).map(([k, v]) => `<${k}>${esc(v)}</${k}>`).join('');
  const headers = {};
  // A body we did not read: close the connection rather than read gigabytes (or wait for a body
  // a client that asked "Expect: 100-continue" will never send).
  const length = Number(req.headers['content-length'] || 0);
  if (!req.readableEnded && (req.headers.expect || req.headers['transfer-encoding'] || length > 1024 * 1024)) {
    headers.connection = 'close';
  }
  ctx.reason = `${err.code}: ${err.message}`;
  sendXml(res, ctx, err.status,
    `<Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message>${detail}` +
    `<RequestId>${ctx.id}</RequestId><HostId>${ctx.hostId}</HostId></Error>`, headers);
}

// ------------------------------------------------------------------------------ request parsing
function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidArgument', 'The request URL is not properly percent-encoded');
  }
}

// The query as [name, value] pairs in order, decoded ('+' stays '+': SigV4 clients encode it).
function parseQuery(raw) {
  const params = [];
  for (const segment of raw.split('&')) {
    if (!segment) continue;
    const i = segment.indexOf('=');
    const name = decode(i < 0 ? segment : segment.slice(0, i));
    if (name === '__proto__') throw new S3Error(400, 'InvalidArgument', 'Invalid query parameter');
    params.push([name, i < 0 ? '' : decode(segment.slice(i + 1))]);
  }
  return params;
}

function queryObject(params) {
  const query = {};
  for (const [name, value] of params) {
    if (!Object.hasOwn(query, name)) query[name] = value;
    else query[name] = [].concat(query[name], value);
  }
  return query;
}

// A header's value as SigV4 sees it: repeated headers joined by commas, in the order received.
function headerValue(req, name) {
  const values = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) values.push(req.rawHeaders[i + 1]);
  }
  return values.length ? values.join(',') : undefined;
}

function parseAmzDate(s) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(s ?? '');
  if (!m) return null;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(date.getTime()) ? null : date;
}
const isoSeconds = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function safeEqual(a, b) {
  const x = Buffer.from(String(a), 'utf8');
  const y = Buffer.from(String(b), 'utf8');
  // timingSafeEqual needs equal lengths; the length of a signature is no secret.
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// ------------------------------------------------------------------------------ SigV4
// Credential=<key id>/<yyyymmdd>/<region>/s3/aws4_request
function parseCredential(value, fail) {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId, date, region, service, terminal] = parts;
  if (!signers.has(accessKeyId)) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKeyId });
  }
  if (region !== REGION) {
    const err = fail(`the region '${region}' is wrong; expecting '${REGION}'`);
    err.detail.Region = REGION;
    throw err;
  }
  if (service !== 's3') throw fail(`incorrect service '${service}'. This endpoint belongs to 's3'.`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal '${terminal}'. This endpoint uses 'aws4_request'.`);
  return { accessKeyId, date, scope: `${date}/${region}/${service}/${terminal}` };
}

function signedHeaderMap(req, names) {
  const headers = {};
  for (const name of names) {
    const value = headerValue(req, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

// What S3 tells a client whose signature does not match: the canonical request and the string
// to sign this side computed (rebuilt with the signer's own steps; only for the message).
async function mismatch(signer, request, { form, accessKeyId, provided, longDate, scope, payloadHash, signable,
  unsignable, unhoistable, expires }) {
  let prepared = prepareRequest(request);
  if (form === 'query') {
    prepared = moveHeadersToQuery(prepared, { unhoistableHeaders: unhoistable });
    prepared.query['X-Amz-Algorithm'] = 'AWS4-HMAC-SHA256';
    prepared.query['X-Amz-Credential'] = `${accessKeyId}/${scope}`;
    prepared.query['X-Amz-Date'] = longDate;
    prepared.query['X-Amz-Expires'] = expires;
  } else {
    prepared.headers['x-amz-date'] = longDate;
  }
  const canonicalHeaders = getCanonicalHeaders(prepared, unsignable, signable);
  if (form === 'query') prepared.query['X-Amz-SignedHeaders'] = Object.keys(canonicalHeaders).sort().join(';');
  const canonicalRequest = signer.createCanonicalRequest(prepared, canonicalHeaders, payloadHash);
  const stringToSign = await signer.createStringToSign(longDate, scope, canonicalRequest, 'AWS4-HMAC-SHA256');
  return new S3Error(403, 'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: accessKeyId, StringToSign: stringToSign, SignatureProvided: provided,
      CanonicalRequest: canonicalRequest });
}

async function verifyHeaderAuth(req, ctx) {
  const auth = req.headers.authorization;
  if (/^AWS\s/.test(auth)) {
    throw new S3Error(400, 'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(auth);
  if (!m) {
    throw new S3Error(400, 'InvalidArgument', 'Unsupported Authorization Type',
      { ArgumentName: 'Authorization', ArgumentValue: auth });
  }
  const malformed = (why) => new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${why}`);
  const fields = new Map();
  for (const component of m[1].split(',')) {
    const t = component.trim();
    const i = t.indexOf('=');
    if (i > 0) fields.set(t.slice(0, i), t.slice(i + 1));
  }
  if (!fields.has('Credential') || !fields.has('SignedHeaders') || !fields.has('Signature')) {
    throw malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const credential = parseCredential(fields.get('Credential'), malformed);
  const amzDate = req.headers['x-amz-date'];
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (credential.date !== amzDate.slice(0, 8)) {
    throw malformed(`Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash === undefined) {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  if (payloadHash.startsWith('STREAMING-')) {
    throw new S3Error(501, 'NotImplemented',
      `The demo site's S3 endpoint does not take aws-chunked payloads (x-amz-content-sha256: ${payloadHash})`);
  }
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    throw new S3Error(400, 'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash });
  }
  const names = fields.get('SignedHeaders').split(';');
  if (!names.includes('host')) throw malformed('SignedHeaders must include host.');
  const provided = fields.get('Signature');
  const signer = signers.get(credential.accessKeyId);
  const signable = new Set(names);
  const request = new HttpRequest({ method: req.method, protocol: 'http:', hostname: 'localhost', path: ctx.rawPath,
    query: queryObject(ctx.params), headers: signedHeaderMap(req, names) });
  const signed = await signer.sign(request, { signingDate, signableHeaders: signable });
  const computed = /Signature=([0-9a-f]+)/.exec(signed.headers.authorization)[1];
  if (!safeEqual(computed, provided)) {
    throw await mismatch(signer, request, { form: 'header', accessKeyId: credential.accessKeyId, provided,
      longDate: amzDate, scope: credential.scope, payloadHash, signable });
  }
  const now = Date.now();
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.',
      { RequestTime: amzDate, ServerTime: isoSeconds(new Date(now)), MaxAllowedSkewMilliseconds: MAX_SKEW_MS });
  }
  if (/^[0-9a-f]{64}$/.test(payloadHash)) ctx.declaredSha256 = payloadHash;
  return credential.accessKeyId;
}

async function verifyQueryAuth(req, ctx) {
  const fail = (why) => new S3Error(400, 'AuthorizationQueryParametersError', why);
  const one = (name) => {
    const values = ctx.params.filter(([n]) => n === name).map(([, v]) => v);
    if (values.length > 1) throw fail(`Only one ${name} query parameter is allowed`);
    return values[0];
  };
  const [algorithm, credentialValue, amzDate, expires, signedHeaders, provided] = QUERY_AUTH_PARAMS.map(one);
  if (algorithm !== 'AWS4-HMAC-SHA256') throw fail('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  if ([credentialValue, amzDate, expires, signedHeaders, provided].includes(undefined)) {
    throw fail('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
      'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  if (ctx.params.some(([n]) => n === 'X-Amz-Security-Token')) {
    throw new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  }
  const credential = parseCredential(credentialValue, (why) => fail(`Error parsing the X-Amz-Credential parameter; ${why}`));
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw fail('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (credential.date !== amzDate.slice(0, 8)) {
    throw fail(`Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  if (!/^\d+$/.test(expires)) throw fail('X-Amz-Expires should be a number');
  if (Number(expires) > MAX_EXPIRES) {
    throw fail('X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds');
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw fail('X-Amz-SignedHeaders must include host');
  // Presigned: the payload is UNSIGNED-PAYLOAD, carried in a header that is neither signed nor
  // hoisted into the query (what botocore does).
  const headers = signedHeaderMap(req, names);
  const sha256Signed = names.includes('x-amz-content-sha256');
  if (!sha256Signed) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const signable = new Set(names);
  const unsignable = sha256Signed ? undefined : new Set(['x-amz-content-sha256']);
  const unhoistable = new Set([...names, 'x-amz-content-sha256']);
  const signer = signers.get(credential.accessKeyId);
  const request = new HttpRequest({ method: req.method, protocol: 'http:', hostname: 'localhost', path: ctx.rawPath,
    query: queryObject(ctx.params.filter(([n]) => !STRIPPED_PARAMS.has(n))), headers });
  const signed = await signer.presign(request, { signingDate, expiresIn: Number(expires), signableHeaders: signable,
    unsignableHeaders: unsignable, unhoistableHeaders: unhoistable });
  if (!safeEqual(signed.query['X-Amz-Signature'], provided)) {
    throw await mismatch(signer, request, { form: 'query', accessKeyId: credential.accessKeyId, provided,
      longDate: amzDate, scope: credential.scope, payloadHash: headers['x-amz-content-sha256'], signable, unsignable,
      unhoistable, expires });
  }
  const now = Date.now();
  const expiresAt = signingDate.getTime() + Number(expires) * 1000;
  if (now > expiresAt) {
    throw new S3Error(403, 'AccessDenied', 'Request has expired',
      { 'X-Amz-Expires': expires, Expires: isoSeconds(new Date(expiresAt)), ServerTime: isoSeconds(new Date(now)) });
  }
  if (signingDate.getTime() - now > MAX_SKEW_MS) {
    throw new S3Error(403, 'AccessDenied', 'Request is not valid yet',
      { 'X-Amz-Date': amzDate, ServerTime: isoSeconds(new Date(now)) });
  }
  const declared = req.headers['x-amz-content-sha256'];
  if (declared && /^[0-9a-f]{64}$/.test(declared)) ctx.declaredSha256 = declared;
  return credential.accessKeyId;
}

async function authenticate(req, ctx) {
  const header = req.headers.authorization !== undefined;
  const query = ctx.params.some(([n]) => n === 'X-Amz-Algorithm');
  const queryV2 = ctx.params.some(([n]) => n === 'Signature' || n === 'AWSAccessKeyId');
  if ([header, query, queryV2].filter(Boolean).length > 1) {
    throw new S3Error(400, 'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter ' +
      'or the Authorization header should be specified', { ArgumentName: 'Authorization' });
  }
  if (queryV2) {
    throw new S3Error(400, 'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  if (req.headers['content-encoding']?.includes('aws-chunked')) {
    throw new S3Error(501, 'NotImplemented', "The demo site's S3 endpoint does not take aws-chunked payloads");
  }
  if (header) {
    ctx.auth = 'header';
    return verifyHeaderAuth(req, ctx);
  }
  if (query) {
    ctx.auth = 'query';
    return verifyQueryAuth(req, ctx);
  }
  throw new S3Error(403, 'AccessDenied', 'Access Denied');
}

// ------------------------------------------------------------------------------ bodies
function contentMd5(req) {
  const value = req.headers['content-md5'];
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(value.trim())) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': value });
  }
  return value.trim();
}

function digestError(ctx, sha256, md5) {
  if (ctx.declaredSha256 && sha256 !== ctx.declaredSha256) {
    return new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.",
      { ClientComputedContentSHA256: ctx.declaredSha256, S3ComputedContentSHA256: sha256 });
  }
  if (ctx.contentMd5 && md5 !== ctx.contentMd5) {
    return new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.',
      { ExpectedDigest: Buffer.from(ctx.contentMd5, 'base64').toString('hex'), CalculatedDigest: Buffer.from(md5, 'base64').toString('hex') });
  }
  return null;
}

// Passes the body on, holding back the last chunk until the digests the client declared are
// checked: a body that does not match them never reaches s3rver whole.
function bodyChecker(ctx) {
  if (!ctx.declaredSha256 && !ctx.contentMd5) return new PassThrough();
  const sha256 = ctx.declaredSha256 ? crypto.createHash('sha256') : null;
  const md5 = ctx.contentMd5 ? crypto.createHash('md5') : null;
  let held = null;
  return new Transform({
    transform(chunk, encoding, callback) {
      sha256?.update(chunk);
      md5?.update(chunk);
      const previous = held;
      held = chunk;
      callback(null, previous ?? undefined);
    },
    flush(callback) {
      const err = digestError(ctx, sha256?.digest('hex'), md5?.digest('base64'));
      if (err) {
        ctx.failure = err;
        callback(err);
      } else {
        callback(null, held ?? undefined);
      }
    },
  });
}

function hasBody(req) {
  return Number(req.headers['content-length'] || 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

async function readBody(req, ctx, limit) {
  if (Number(req.headers['content-length'] || 0) > limit) {
    throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
  }
  if (ctx.expectContinue) res100(ctx);
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const err = digestError(ctx, crypto.createHash('sha256').update(body).digest('hex'),
    crypto.createHash('md5').update(body).digest('base64'));
  if (err) throw err;
  return body;
}

function res100(ctx) {
  if (!ctx.continued) {
    ctx.continued = true;
    ctx.res.writeContinue();
  }
}

// ------------------------------------------------------------------------------ proxy to s3rver
// keepAlive (CompleteMultipartUpload): as S3 does, 200 and the XML declaration are sent at once
// and a space every second until the backend has answered; its answer, success or <Error>, is
// then the rest of the body. Clients with a short read timeout (pyFirecREST's is 5 s) survive
// the assembly of a large object.
async function proxy(req, res, ctx, { body, after, keepAlive } = {}) {
  const forwardParams = ctx.params.filter(([n]) => !STRIPPED_PARAMS.has(n));
  const forwardQuery = ctx.rawQuery.split('&').filter((s) => {
    if (!s) return false;
    const i = s.indexOf('=');
    return !STRIPPED_PARAMS.has(decode(i < 0 ? s : s.slice(0, i)));
  }).join('&');
  const connectionTokens = new Set((req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || connectionTokens.has(name) || name.startsWith('proxy-') || name === 'authorization' ||
        name === 'x-amz-date' || name === 'x-amz-content-sha256' || name === 'x-amz-security-token' ||
        (body !== undefined && name === 'content-length')) continue;
    headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  if (body !== undefined) headers.push('content-length', String(body.length));
  if (ctx.auth) {
    // s3rver only wants a V4 header with a key id it knows (it checks no signature); it gets a
    // real one, made with its own account.
    const signed = await backendSigner.sign(new HttpRequest({ method: req.method, protocol: 'http:',
      hostname: config.backend.host, path: ctx.rawPath, query: queryObject(forwardParams),
      headers: { host: req.headers.host ?? 'localhost', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }));
    headers.push('authorization', signed.headers.authorization, 'x-amz-date', signed.headers['x-amz-date'],
      'x-amz-content-sha256', 'UNSIGNED-PAYLOAD');
  }
  let ticker;
  if (keepAlive) {
    res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': ctx.id, 'x-amz-id-2': ctx.hostId });
    res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    ticker = setInterval(() => res.write(' '), 1000);
    ctx.status = 200;
  }
  const undeclared = (text) => text.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
  return new Promise((resolve) => {
    let settled = false;
    const finish = () => { if (!settled) { settled = true; clearInterval(ticker); resolve(); } };
    const fail = (err) => {
      if (keepAlive && !res.writableEnded) {
        clearInterval(ticker);
        res.end(`<Error><Code>InternalError</Code><Message>The S3 backend did not answer: ${esc(String(err?.message ?? err))}` +
          `</Message><RequestId>${ctx.id}</RequestId></Error>`);
        finish();
        return;
      }
      if (!ctx.failure && !req.complete) {  // the client went away before its body was all here
        ctx.reason = 'the client went away';
        upstream.destroy();
        res.destroy();
      } else if (!res.headersSent) {
        sendError(req, res, ctx, ctx.failure ?? (err instanceof S3Error ? err
          : new S3Error(503, 'ServiceUnavailable', `The S3 backend did not answer: ${err?.message ?? err}`)));
      } else if (!res.writableEnded) {
        res.destroy();
      }
      finish();
    };
    const upstream = http.request({ host: config.backend.host, port: config.backend.port, method: req.method,
      path: ctx.rawPath + (forwardQuery ? `?${forwardQuery}` : ''), headers, agent: backendAgent });
    upstream.on('response', (answer) => {
      if (keepAlive) {
        const chunks = [];
        answer.on('data', (c) => chunks.push(c));
        answer.on('end', () => {
          clearInterval(ticker);
          res.end(undeclared(Buffer.concat(chunks).toString('utf8')));
          if (answer.statusCode === 200) after?.(200);
          finish();
        });
        answer.on('error', fail);
        return;
      }
      if (res.headersSent || ctx.failure) { answer.resume(); return; }
      const out = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        const name = answer.rawHeaders[i].toLowerCase();
        if (!HOP_BY_HOP.has(name)) out.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      ctx.status = answer.statusCode;
      res.writeHead(answer.statusCode, out);
      pipeline(answer, res, (err) => {
        if (err) res.destroy();
        else after?.(answer.statusCode);
        finish();
      });
    });
    upstream.on('error', fail);
    if (body !== undefined) {
      upstream.end(body);
    } else if (hasBody(req)) {
      if (ctx.expectContinue) res100(ctx);
      pipeline(req, bodyChecker(ctx), upstream, (err) => { if (err) fail(err); });
    } else {
      if (ctx.declaredSha256 && ctx.declaredSha256 !== EMPTY_SHA256) {
        ctx.failure = digestError(ctx, EMPTY_SHA256, undefined);
        upstream.destroy();
        fail(ctx.failure);
        return;
      }
      upstream.end();
    }
  });
}

// ------------------------------------------------------------------------------ buckets and uploads
const bucketDir = (bucket) => path.join(config.data_dir, bucket);
const validBucketName = (b) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b) && !b.includes('..');
const lifecyclePath = (bucket) => path.join(LIFECYCLE_DIR, `${bucket}.xml`);

async function bucketExists(bucket) {
  if (!validBucketName(bucket)) return false;
  try {
    return (await fsp.stat(bucketDir(bucket))).isDirectory();
  } catch {
    return false;
  }
}

async function uploadDir(bucket, key, uploadId) {
  if (!(await bucketExists(bucket))) throw noSuchBucket(bucket);
  if (!/^[0-9a-f]{32}$/.test(uploadId ?? '')) throw noSuchUpload(uploadId);
  const dir = path.join(bucketDir(bucket), UPLOADS, uploadId);
  let storedKey;
  try {
    storedKey = await fsp.readFile(path.join(dir, 'key'), 'utf8');
  } catch {
    throw noSuchUpload(uploadId);
  }
  if (storedKey !== key) throw noSuchUpload(uploadId);
  return dir;
}

function partNumberOf(value) {
  if (!/^[1-9]\d{0,4}$/.test(value ?? '') || Number(value) > 10000) {
    throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
      { ArgumentName: 'partNumber', ArgumentValue: value });
  }
  return Number(value);
}

async function storedParts(dir) {
  const parts = [];
  for (const name of await fsp.readdir(dir)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const [md5, stat] = await Promise.all([fsp.readFile(path.join(dir, `${name}.md5`), 'utf8'), fsp.stat(path.join(dir, name))]);
      parts.push({ number: Number(name), etag: md5.trim(), size: stat.size, modified: stat.mtime });
    } catch {
      // a part still being written has no .md5 yet
    }
  }
  return parts.sort((a, b) => a.number - b.number);
}

const one = (ctx, name) => ctx.params.find(([n]) => n === name)?.[1];
const has = (ctx, name) => ctx.params.some(([n]) => n === name);

async function abortUpload(req, res, ctx) {
  const dir = await uploadDir(ctx.bucket, ctx.key, one(ctx, 'uploadId'));
  await fsp.rm(dir, { recursive: true, force: true });
  sendXml(res, ctx, 204);
}

async function listParts(req, res, ctx) {
  const uploadId = one(ctx, 'uploadId');
  const dir = await uploadDir(ctx.bucket, ctx.key, uploadId);
  const marker = one(ctx, 'part-number-marker') ?? '0';
  const maxParts = one(ctx, 'max-parts') ?? '1000';
  if (!/^\d+$/.test(marker)) {
    throw new S3Error(400, 'InvalidArgument', 'Provided part-number-marker not an integer or within integer range',
      { ArgumentName: 'part-number-marker', ArgumentValue: marker });
  }
  if (!/^\d+$/.test(maxParts)) {
    throw new S3Error(400, 'InvalidArgument', 'Provided max-parts not an integer or within integer range',
      { ArgumentName: 'max-parts', ArgumentValue: maxParts });
  }
  const max = Math.min(1000, Number(maxParts));
  const after = (await storedParts(dir)).filter((p) => p.number > Number(marker));
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const owner = `<ID>${esc(config.backend.access_key_id)}</ID><DisplayName>${esc(config.backend.access_key_id)}</DisplayName>`;
  sendXml(res, ctx, 200,
    `<ListPartsResult xmlns="${XMLNS}"><Bucket>${esc(ctx.bucket)}</Bucket><Key>${esc(ctx.key)}</Key>` +
    `<UploadId>${uploadId}</UploadId><Initiator>${owner}</Initiator><Owner>${owner}</Owner>` +
    `<StorageClass>STANDARD</StorageClass><PartNumberMarker>${Number(marker)}</PartNumberMarker>` +
    `<NextPartNumberMarker>${page.length ? page[page.length - 1].number : 0}</NextPartNumberMarker>` +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    page.map((p) => `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.modified.toISOString()}</LastModified>` +
      `<ETag>"${p.etag}"</ETag><Size>${p.size}</Size></Part>`).join('') +
    '</ListPartsResult>');
}

async function uploadPart(req, res, ctx) {
  partNumberOf(one(ctx, 'partNumber'));
  await uploadDir(ctx.bucket, ctx.key, one(ctx, 'uploadId'));
  return proxy(req, res, ctx);
}

async function completeUpload(req, res, ctx) {
  const uploadId = one(ctx, 'uploadId');
  const dir = await uploadDir(ctx.bucket, ctx.key, uploadId);
  const body = await readBody(req, ctx, 4 * 1024 * 1024);
  const doc = parseXml(body);
  const requested = list(doc.CompleteMultipartUpload?.Part);
  if (!requested.length) throw malformedXml();
  const stored = new Map((await storedParts(dir)).map((p) => [p.number, p]));
  const parts = requested.map((part) => {
    if (!/^\d+$/.test(String(part.PartNumber ?? '')) || Number(part.PartNumber) > 10000) throw malformedXml();
    return { number: Number(part.PartNumber), etag: String(part.ETag ?? '').replace(/"/g, '') };
  });
  // S3's order of checks: the order of the list, then each part, then the sizes.
  parts.forEach((part, i) => {
    if (part.number < 1 || (i > 0 && part.number <= parts[i - 1].number)) {
      throw new S3Error(400, 'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
        { UploadId: uploadId });
    }
  });
  for (const part of parts) {
    const have = stored.get(part.number);
    if (!have || !safeEqual(have.etag, part.etag)) {
      throw new S3Error(400, 'InvalidPart',
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: uploadId, PartNumber: part.number, ETag: part.etag });
    }
  }
  parts.slice(0, -1).forEach((part) => {
    const size = stored.get(part.number).size;
    if (size < MIN_PART_SIZE) {
      throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.',
        { ProposedSize: size, MinSizeAllowed: MIN_PART_SIZE, PartNumber: part.number, ETag: part.etag });
    }
  });
  return proxy(req, res, ctx, { body, keepAlive: true });
}

// ------------------------------------------------------------------------------ lifecycle
const positiveInt = (v) => /^[1-9]\d*$/.test(String(v ?? ''));

// The rules of a stored configuration, in the shape the sweep uses. Throws the S3 error a PUT
// of it gets.
function lifecycleRules(body) {
  const doc = parseXml(body);
  const lc = doc.LifecycleConfiguration;
  if (!lc || typeof lc !== 'object') throw malformedXml();
  const rules = list(lc.Rule);
  if (!rules.length || rules.length > 1000) throw malformedXml();
  const ids = new Set();
  return rules.map((rule) => {
    if (typeof rule !== 'object') throw malformedXml();
    if (rule.ID !== undefined) {
      const id = String(rule.ID);
      if (id.length > 255) throw new S3Error(400, 'InvalidArgument', 'ID length should not exceed allowed limit of 255');
      if (ids.has(id)) throw new S3Error(400, 'InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
      ids.add(id);
    }
    if (rule.Status !== 'Enabled' && rule.Status !== 'Disabled') throw malformedXml();
    if ((rule.Filter !== undefined) === (rule.Prefix !== undefined)) throw malformedXml();
    let prefix = '';
    let tags = false;
    let sizeAbove = -1;
    let sizeBelow = Infinity;
    if (rule.Prefix !== undefined) {
      prefix = String(rule.Prefix);
    } else if (rule.Filter !== '') {
      const filter = rule.Filter;
      if (typeof filter !== 'object' || Object.keys(filter).length > 1) throw malformedXml();
      const f = filter.And ?? filter;
      if (typeof f !== 'object') throw malformedXml();
      prefix = String(f.Prefix ?? '');
      tags = f.Tag !== undefined;
      if (f.ObjectSizeGreaterThan !== undefined) sizeAbove = Number(f.ObjectSizeGreaterThan);
      if (f.ObjectSizeLessThan !== undefined) sizeBelow = Number(f.ObjectSizeLessThan);
    }
    const actions = ['Expiration', 'Transition', 'NoncurrentVersionExpiration', 'NoncurrentVersionTransition',
      'AbortIncompleteMultipartUpload'].filter((a) => rule[a] !== undefined);
    if (!actions.length) throw new S3Error(400, 'InvalidRequest', 'At least one action needs to be specified in a rule');
    let days;
    let date;
    if (rule.Expiration !== undefined) {
      const e = rule.Expiration;
      if (typeof e !== 'object') throw malformedXml();
      const kinds = ['Days', 'Date', 'ExpiredObjectDeleteMarker'].filter((k) => e[k] !== undefined);
      if (kinds.length !== 1) throw malformedXml();
      if (e.Days !== undefined) {
        if (!positiveInt(e.Days)) throw new S3Error(400, 'InvalidArgument', "'Days' for Expiration action must be a positive integer");
        days = Number(e.Days);
      }
      if (e.Date !== undefined) {
        date = new Date(String(e.Date));
        if (Number.isNaN(date.getTime()) || date.getTime() % 86400000 !== 0) {
          throw new S3Error(400, 'InvalidArgument', "'Date' must be at midnight GMT");
        }
      }
    }
    let abortDays;
    if (rule.AbortIncompleteMultipartUpload !== undefined) {
      const a = rule.AbortIncompleteMultipartUpload;
      if (typeof a !== 'object' || !positiveInt(a.DaysAfterInitiation)) {
        throw new S3Error(400, 'InvalidArgument', "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
      }
      if (tags) {
        throw new S3Error(400, 'InvalidRequest', 'Tag-based filter cannot be used with AbortIncompleteMultipartUpload action');
      }
      abortDays = Number(a.DaysAfterInitiation);
    }
    return { id: rule.ID, enabled: rule.Status === 'Enabled', prefix, tags, sizeAbove, sizeBelow, days, date, abortDays };
  });
}

async function lifecycle(req, res, ctx) {
  if (!(await bucketExists(ctx.bucket))) throw noSuchBucket(ctx.bucket);
  const file = lifecyclePath(ctx.bucket);
  switch (req.method) {
    case 'PUT': {
      if (ctx.contentMd5 === undefined && !Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-'))) {
        throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
      }
      const body = await readBody(req, ctx, 1024 * 1024);
      lifecycleRules(body);
      const tmp = `${file}.${ctx.id}.tmp`;
      await fsp.writeFile(tmp, body);
      await fsp.rename(tmp, file);
      return sendXml(res, ctx, 200);
    }
    case 'GET':
    case 'HEAD': {
      let stored;
      try {
        stored = await fsp.readFile(file, 'utf8');
      } catch {
        throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist',
          { BucketName: ctx.bucket });
      }
      return sendXml(res, ctx, 200, stored.replace(/^\s*<\?xml[^>]*\?>\s*/, ''));
    }
    case 'DELETE':
      await fsp.rm(file, { force: true });
      return sendXml(res, ctx, 204);
    default:
      throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.',
        { Method: req.method, ResourceType: 'LIFECYCLE' });
  }
}

// When S3 expires an object: its creation plus the days, rounded up to the next midnight UTC
// (the next multiple of a day, for a shortened day).
const expiresAt = (created, days) => Math.ceil((created + days * DAY_MS) / DAY_MS) * DAY_MS;

function backendCall(method, pathAndQuery) {
  return new Promise((resolve, reject) => {
    const url = new URL(pathAndQuery, 'http://backend');
    const query = queryObject(parseQuery(url.search.slice(1)));
    backendSigner.sign(new HttpRequest({ method, protocol: 'http:', hostname: config.backend.host,
      path: url.pathname, query, headers: { host: `${config.backend.host}:${config.backend.port}`,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })).then((signed) => {
      const r = http.request({ host: config.backend.host, port: config.backend.port, method, path: pathAndQuery,
        headers: signed.headers, agent: backendAgent }, (answer) => {
        const chunks = [];
        answer.on('data', (c) => chunks.push(c));
        answer.on('end', () => resolve({ status: answer.statusCode, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      r.on('error', reject);
      r.end();
    }, reject);
  });
}

const encodeKey = (key) => key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g,
  (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

async function sweepBucket(bucket, rules, now) {
  const active = rules.filter((r) => r.enabled);
  const expiring = active.filter((r) => (r.days !== undefined || r.date !== undefined) && !r.tags);
  for (const rule of expiring) {
    let marker = '';
    for (;;) {
      const listing = await backendCall('GET', `/${bucket}?prefix=${encodeURIComponent(rule.prefix)}` +
        `&marker=${encodeURIComponent(marker)}&max-keys=1000`);
      if (listing.status !== 200) return;
      const result = parseXml(listing.body).ListBucketResult ?? {};
      const contents = list(result.Contents);
      for (const object of contents) {
        const key = String(object.Key);
        const size = Number(object.Size);
        if (!(size > rule.sizeAbove && size < rule.sizeBelow)) continue;
        const created = new Date(String(object.LastModified)).getTime();
        const due = rule.days !== undefined ? expiresAt(created, rule.days) : rule.date.getTime();
        if (now >= due) {
          const answer = await backendCall('DELETE', `/${bucket}/${encodeKey(key)}`);
          console.log(`lifecycle: ${bucket}/${key} expired by rule ${rule.id ?? '(no id)'} -> ${answer.status}`);
        }
      }
      if (String(result.IsTruncated) !== 'true' || !contents.length) break;
      marker = String(contents[contents.length - 1].Key);
    }
  }
  const aborting = active.filter((r) => r.abortDays !== undefined);
  const uploads = path.join(bucketDir(bucket), UPLOADS);
  let ids = [];
  try {
    ids = await fsp.readdir(uploads);
  } catch {
    return;
  }
  for (const id of ids) {
    const dir = path.join(uploads, id);
    try {
      const keyFile = path.join(dir, 'key');
      const [key, stat] = await Promise.all([fsp.readFile(keyFile, 'utf8'), fsp.stat(keyFile)]);
      const rule = aborting.find((r) => key.startsWith(r.prefix) && now >= expiresAt(stat.mtimeMs, r.abortDays));
      if (rule) {
        await fsp.rm(dir, { recursive: true, force: true });
        console.log(`lifecycle: upload ${id} of ${bucket}/${key} aborted by rule ${rule.id ?? '(no id)'}`);
      }
    } catch {
      // gone meanwhile, or being created
    }
  }
}

let sweeping = false;
async function sweep() {
  if (sweeping) return;
  sweeping = true;
  try {
    const now = Date.now();
    for (const name of await fsp.readdir(LIFECYCLE_DIR)) {
      if (!name.endsWith('.xml')) continue;
      const bucket = name.slice(0, -4);
      if (!(await bucketExists(bucket))) {
        await fsp.rm(path.join(LIFECYCLE_DIR, name), { force: true });  // the bucket went away
        continue;
      }
      try {
        await sweepBucket(bucket, lifecycleRules(await fsp.readFile(path.join(LIFECYCLE_DIR, name))), now);
      } catch (err) {
        console.error(`lifecycle: sweeping ${bucket} failed:`, err.message ?? err);
      }
    }
  } finally {
    sweeping = false;
  }
}

// ------------------------------------------------------------------------------ routing
async function route(req, res, ctx) {
  if (ctx.rawPath[0] !== '/') throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  const rest = ctx.rawPath.slice(1);
  const slash = rest.indexOf('/');
  ctx.bucket = decode(slash < 0 ? rest : rest.slice(0, slash));
  ctx.key = slash < 0 ? '' : decode(rest.slice(slash + 1));
  ctx.params = parseQuery(ctx.rawQuery);

  // CORS preflights carry no signature; s3rver answers them from the bucket's CORS rules.
  if (req.method === 'OPTIONS' && req.headers.origin && req.headers['access-control-request-method']) {
    return proxy(req, res, ctx);
  }
  ctx.user = await authenticate(req, ctx);
  ctx.contentMd5 = contentMd5(req);

  if (!ctx.bucket) return proxy(req, res, ctx);
  if (!ctx.key) {
    if (has(ctx, 'lifecycle')) return lifecycle(req, res, ctx);
    const subresource = ctx.params.some(([n]) => !STRIPPED_PARAMS.has(n));
    if (req.method === 'PUT' && !subresource && (await bucketExists(ctx.bucket))) {
      // us-east-1 answers 200 to re-creating a bucket one owns (s3rver says 409).
      return sendXml(res, ctx, 200, undefined, { location: `/${ctx.bucket}` });
    }
    if (req.method === 'DELETE' && !subresource) {
      return proxy(req, res, ctx, { after: (status) => {
        if (status === 204) fsp.rm(lifecyclePath(ctx.bucket), { force: true }).catch(() => {});
      } });
    }
    return proxy(req, res, ctx);
  }
  if (has(ctx, 'uploadId')) {
    switch (req.method) {
      case 'DELETE': return abortUpload(req, res, ctx);
      case 'GET': case 'HEAD': return listParts(req, res, ctx);
      case 'PUT': return uploadPart(req, res, ctx);
      case 'POST': return completeUpload(req, res, ctx);
      default: break;
    }
  }
  return proxy(req, res, ctx);
}

function logLine(req, ctx) {
  const query = ctx.rawQuery.split('&').filter((s) => s && !/^X-Amz-(Signature|Credential)=/.test(s)).join('&');
  const ms = Date.now() - ctx.started;
  const status = ctx.res.writableFinished ? ctx.status : `${ctx.status ?? ''} broken off`.trim();
  console.log(`${new Date().toISOString()} ${ctx.id} ${req.method} ${ctx.rawPath}${query ? `?${query}` : ''} ` +
    `auth=${ctx.auth ?? 'none'} -> ${status} ${ms}ms${ctx.reason ? ` (${ctx.reason})` : ''}`);
}

async function handle(req, res, expectContinue) {
  const q = req.url.indexOf('?');
  const ctx = {
    id: crypto.randomBytes(8).toString('hex').toUpperCase(),
    hostId: crypto.randomBytes(24).toString('base64'),
    method: req.method,
    rawPath: q < 0 ? req.url : req.url.slice(0, q),
    rawQuery: q < 0 ? '' : req.url.slice(q + 1),
    params: [],
    expectContinue,
    res,
    started: Date.now(),
  };
  res.on('close', () => logLine(req, ctx));
  try {
    await route(req, res, ctx);
  } catch (err) {
    sendError(req, res, ctx, err);
  }
}

const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 30_000 });
server.on('request', (req, res) => handle(req, res, false));
// Signatures are checked before the client is told to send its body.
server.on('checkContinue', (req, res) => handle(req, res, true));
server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  else socket.destroy();
});
server.listen(config.port, config.host ?? '127.0.0.1', () => {
  console.log(`s3 front on ${config.host ?? '127.0.0.1'}:${config.port} (region ${REGION}, ` +
    `${signers.size} key(s)) -> s3rver on ${config.backend.host}:${config.backend.port}; lifecycle day ${DAY_MS / 1000}s, ` +
    `sweep every ${SWEEP_MS / 1000}s`);
});
setInterval(() => sweep().catch((err) => console.error('lifecycle sweep:', err)), SWEEP_MS).unref();
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
// A test peer that dies takes every test after it down: log and go on.
process.on('unhandledRejection', (err) => console.error('unhandled rejection:', err));
process.on('uncaughtException', (err) => console.error('uncaught exception:', err));
