// The emulators' front door: an AWS Signature V4 check with the stack's per-start credentials. Neither emulator
// checks signatures itself (dynalite has no auth at all; s3rver checks only V2 signatures and lets V4 and unsigned
// requests through), so each emulator child runs this before the engine sees a request: a request must be signed
// (Authorization header, or a presigned query) with the per-start key and secret, within its validity window.
//
// Plain CommonJS so the emulator children (JavaScript evaluated from a string, no TypeScript loader) can require it.

'use strict';

const { createHash, createHmac, createSecretKey, timingSafeEqual } = require('node:crypto');

/** How far a header-signed request's X-Amz-Date may be from this machine's clock (AWS allows 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest presigned URL AWS accepts (7 days). */
const MAX_EXPIRES_S = 7 * 24 * 3600;

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 escaping, as SigV4 canonicalises query strings. */
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseQuery(raw) {
  if (!raw) return [];
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? [decode(p), ''] : [decode(p.slice(0, i)), decode(p.slice(i + 1))];
    });
}

/** `20261206T081500Z` -> ms since the epoch, or NaN. */
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

function headerValue(headers, name) {
  const v = headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(',') : String(v)).trim().replace(/\s+/g, ' ');
}

/**
 * The SigV4 signing key for a day, region and service (four HMACs), remembered as a key object: it changes once a
 * day, and Node makes a key object from raw bytes on every createHmac otherwise (most of the check's cost).
 */
const signingKeys = new Map();
function signingKey(secret, day, region, service) {
  const id = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(`AWS4${secret}`, day);
    for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
    key = createSecretKey(key);
    if (signingKeys.size > 64) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * Checks one request. `request`: { method, url (path and query as sent), headers (lower-case names, as Node gives
 * them), payloadHash? (hex SHA-256 of the body, for services that sign it without an x-amz-content-sha256 header) }.
 * `credentials`: { accessKeyId, secretAccessKey }. Returns undefined when the request is validly signed, else the
 * reason it is not.
 */
function checkSigV4(request, credentials, now = Date.now()) {
  const url = request.url || '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  const headers = request.headers || {};
  const fromQuery = Object.fromEntries(query);

  let credential, signedHeaders, signature, amzDate, presigned = false, expires;
  const auth = headerValue(headers, 'authorization');
  if (auth !== undefined && 'X-Amz-Signature' in fromQuery) return 'both an Authorization header and a presigned query';
  if (auth !== undefined) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return 'the Authorization header is not an AWS Signature Version 4';
    [, credential, signedHeaders, signature] = m;
    amzDate = headerValue(headers, 'x-amz-date');
  } else if (fromQuery['X-Amz-Algorithm'] !== undefined) {
    if (fromQuery['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return 'unsupported X-Amz-Algorithm';
    credential = fromQuery['X-Amz-Credential'];
    signedHeaders = fromQuery['X-Amz-SignedHeaders'];
    signature = fromQuery['X-Amz-Signature'];
    amzDate = fromQuery['X-Amz-Date'];
    expires = Number(fromQuery['X-Amz-Expires']);
    presigned = true;
    if (!credential || !signedHeaders || !/^[0-9a-f]{64}$/.test(signature || '')) return 'incomplete presigned query';
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_S) return 'invalid X-Amz-Expires';
  } else {
    return 'the request is not signed';
  }

  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return 'malformed credential scope';
  const [accessKeyId, day, region, service] = parts;
  if (accessKeyId !== credentials.accessKeyId) return 'unknown access key';
  const at = parseAmzDate(amzDate);
  if (Number.isNaN(at) || amzDate.slice(0, 8) !== day) return 'missing or malformed X-Amz-Date';
  if (presigned) {
    if (now > at + expires * 1000) return 'the presigned URL has expired';
    if (at - now > MAX_SKEW_MS) return 'the presigned URL is not valid yet';
  } else if (Math.abs(now - at) > MAX_SKEW_MS) {
    return 'the request time is too far from the server time';
  }

  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'the host header is not signed';
  const canonicalHeaders = names.map((n) => `${n}:${headerValue(headers, n) ?? ''}\n`).join('');
  const canonicalQuery = query
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'))
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  // A body the caller hashed (DynamoDB: the whole request is read first) must be the one the signature covers.
  const declared = headerValue(headers, 'x-amz-content-sha256');
  if (request.payloadHash !== undefined && declared !== undefined && declared !== request.payloadHash) {
    return 'the body does not match its signed hash';
  }
  const payloadHash = declared ?? request.payloadHash ?? (presigned ? 'UNSIGNED-PAYLOAD' : sha256Hex(''));
  const canonicalRequest = [request.method, path || '/', canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = hmac(signingKey(credentials.secretAccessKey, day, region, service), stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
  return undefined;
}

module.exports = { checkSigV4, sha256Hex };
