// A self-signed certificate for 127.0.0.1/localhost made by openssl at test time (none is committed).
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { selfSignedCert as makeCert } from '../../demo/self-signed.js';

export interface TestCert {
  key: Buffer;
  cert: Buffer;
}

const ON_CI = process.env.CI === 'true';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why TLS suites are skipped, or undefined when they run. Locally a missing openssl skips loudly; on CI
 * (CI=true) it never skips, so the suite fails instead of passing silently.
 */
export function tlsSkipReason(suite: string): string | undefined {
  if (ON_CI || hasOpenssl()) return undefined;
  const reason = 'openssl not found (it makes the self-signed test certificate)';
  console.error(`\n!!!!! ${suite} SKIPPED: ${reason}. Install openssl. On CI (CI=true) this fails.\n`);
  return reason;
}

/** A fresh P-256 key and a one-day self-signed certificate valid for 127.0.0.1 and localhost (the demo's). */
export function selfSignedCert(): TestCert {
  return makeCert();
}

/** One HTTPS GET over HTTP/1.1 to 127.0.0.1 that trusts `ca`; resolves with the status and the body text. */
export function httpsGet(
  port: number,
  path: string,
  ca: Buffer | string
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false };
    const req = httpsRequest(options, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
