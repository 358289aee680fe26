// tests/s3/server.js - s3rver (a real S3 API server in Node) on loopback,
// for tests/integration/test_freshness.sh, with AWS Signature V4 checked.
//
// s3rver 3.7.1 checks that an access key exists but not a V4 signature
// (lib/middleware/authentication.js: "Signature version 4 calculation is
// unimplemented"), so a wrong secret would pass. In front of its own
// middleware this adds one that recomputes the signature of every signed
// GET and HEAD with the AWS SDK's signer (@smithy/signature-v4, the one
// the AWS SDK for JavaScript v3 signs with) over the headers the request
// says it signed, and answers S3's own 403 SignatureDoesNotMatch error
// document when the two differ. Uploads (PUT, with bodies) go to s3rver
// unchecked: the test makes them, yardstick only lists.
//
// Usage: node server.js DIRECTORY PORT
// Prints "listening <port>" once it accepts connections, then a line per
// checked request: "sigv4 ok GET <url> signed=<headers> token=<token or ->"
// or "sigv4 mismatch GET <url>". The key pair is
// s3rver's built-in one: S3RVER / S3RVER. Host names s3.localhost and
// <bucket>.s3.localhost reach it (virtual-host style).
'use strict';

const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const SECRETS = { S3RVER: 'S3RVER' };
const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

// "20261129T223443Z" -> Date
function amzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6])) : null;
}

function mismatch(keyId) {
  return new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
    { AWSAccessKeyId: keyId },
  );
}

async function verifySigV4(ctx, next) {
  const auth = ctx.get('authorization');
  if (!auth.startsWith('AWS4-HMAC-SHA256') || !['GET', 'HEAD'].includes(ctx.method)) {
    return next();
  }
  const m = AUTH_RE.exec(auth);
  if (!m) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  const [, keyId, , region, service, signedHeaders, signature] = m;
  const secret = SECRETS[keyId];
  if (!secret) return next(); // s3rver answers InvalidAccessKeyId
  const date = amzDate(ctx.get('x-amz-date'));
  if (!date) throw mismatch(keyId);
  const headers = {};
  for (const h of signedHeaders.split(';')) headers[h] = ctx.get(h);
  const url = new URL(ctx.originalUrl, 'http://unused');
  const query = {};
  for (const [k, v] of url.searchParams) {
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: keyId, secretAccessKey: secret },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false, // S3 signs the path as sent
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: ctx.method, protocol: 'http:', hostname: ctx.hostname, path: url.pathname, query, headers },
    { signingDate: date },
  );
  const want = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  if (want !== signature) {
    console.log(`sigv4 mismatch ${ctx.method} ${ctx.originalUrl}`);
    throw mismatch(keyId);
  }
  const token = ctx.get('x-amz-security-token') || '-';
  console.log(`sigv4 ok ${ctx.method} ${ctx.originalUrl} signed=${signedHeaders} token=${token}`);
  return next();
}

async function main() {
  const [directory, port] = process.argv.slice(2);
  if (!directory || !port) {
    console.error('usage: node server.js DIRECTORY PORT');
    process.exit(2);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: Number(port),
    directory,
    silent: true,
    serviceEndpoint: 'localhost',
  });
  server.middleware.unshift(verifySigV4);
  const addr = await server.run();
  console.log(`listening ${addr.port}`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
