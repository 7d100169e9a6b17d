// Reads and parses request bodies (JSON, urlencoded, text) under a size limit, before the middleware chain.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { Errors } from './errors.js';
import { parseQuery } from './query.js';

type Kind = 'json' | 'form' | 'text';

function kindOf(contentType: string | undefined): Kind | undefined {
  if (!contentType) return undefined;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type.startsWith('text/')) return 'text';
  return undefined;
}

/** True when the request announces a body (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  // HTTP/2 frames the body itself (RFC 9113 §8.1): there is one unless the HEADERS frame ended the stream.
  if (req.httpVersionMajor === 2) return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Parses the body of the types the framework understands; other types are left unread on `req` so
 * handlers can stream them. Rejects with 413 past `limit`, 400 for malformed JSON.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const kind = kindOf(req.headers['content-type']);
  if (kind === undefined) return undefined;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity')
    throw Errors.unsupportedEncoding(encoding);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw Errors.bodyTooLarge(limit);
  const text = (await collect(req, limit)).toString('utf8');
  if (kind === 'text') return text;
  if (kind === 'form') return parseQuery(text);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw Errors.invalidJson(err instanceof Error ? err.message : 'parse error');
  }
}

function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Keep draining so the client can finish writing and read the 413 instead of a reset.
        req.resume();
        reject(Errors.bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onAborted = () => {
      cleanup();
      reject(Errors.bodyAborted());
    };
    const onError = onAborted;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
