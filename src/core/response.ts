// ctx.res: a ServerResponse subclass with status/json/send, so the helpers cost nothing per request.
import { ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Response } from './types.js';

function serialize(data: unknown): string {
  return JSON.stringify(data) ?? 'null';
}

function endWith(res: ServerResponse, type: string, payload: string | Buffer | Uint8Array): void {
  if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', type);
  res.setHeader(
    'Content-Length',
    typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
  );
  res.end(payload);
}

/** The class handed to `http.createServer({ ServerResponse })`. */
export class AppResponse extends ServerResponse<IncomingMessage> implements Response {
  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  json(data: unknown): this {
    endWith(this, 'application/json; charset=utf-8', serialize(data));
    return this;
  }

  send(body: string | Buffer | Uint8Array | object | null | undefined): this {
    if (body === null || body === undefined) {
      this.end();
    } else if (typeof body === 'string') {
      const type = body.trimStart().startsWith('<') ? 'text/html' : 'text/plain';
      endWith(this, `${type}; charset=utf-8`, body);
    } else if (body instanceof Uint8Array) {
      endWith(this, 'application/octet-stream', body);
    } else {
      endWith(this, 'application/json; charset=utf-8', serialize(body));
    }
    return this;
  }
}

// Taken off the prototype on purpose: they are re-attached to foreign responses and called as methods.
// eslint-disable-next-line @typescript-eslint/unbound-method
const { status, json, send } = AppResponse.prototype;

/** Gives a response from a foreign server (`app.callback()`) the same helpers, as own properties. */
export function asResponse(res: ServerResponse): Response {
  if (res instanceof AppResponse) return res;
  return Object.assign(res, { status, json, send });
}
