// The tests' one client frame builder and one server frame reader (RFC 6455 section 5.2 framing, both directions).

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  rsv?: number;
  /** Default true: RFC 6455 section 5.1, a client MUST mask every frame. */
  masked?: boolean;
  /** The masking key; a fixed key by default so every byte a test writes is reproducible. */
  key?: ArrayLike<number>;
  /** Length encoding; defaults to the minimal one. Non-minimal encodings are legal. */
  lengthForm?: 7 | 16 | 64;
  /** Declared payload length when it must differ from the payload carried (header-only or lying vectors). */
  declaredLength?: number | bigint;
}

const DEFAULT_KEY = [0x37, 0xfa, 0x21, 0x3d];

/** Builds one frame exactly as specified, including illegal ones (as a client sends it: masked unless told otherwise). */
export function clientFrame(spec: FrameSpec): Buffer;
/** Shorthand: a masked frame with the minimal length form. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  fin?: boolean,
  rsv?: number
): Buffer;
export function clientFrame(
  specOrOpcode: FrameSpec | number,
  payload?: Uint8Array | string,
  fin?: boolean,
  rsv?: number
): Buffer {
  const spec = typeof specOrOpcode === 'number' ? { opcode: specOrOpcode, payload, fin, rsv } : specOrOpcode;
  const data = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? []);
  const declared = BigInt(spec.declaredLength ?? data.length);
  const form = spec.lengthForm ?? (declared < 126n ? 7 : declared < 65536n ? 16 : 64);
  const masked = spec.masked ?? true;
  const extra = form === 7 ? 0 : form === 16 ? 2 : 8;
  const headerLength = 2 + extra + (masked ? 4 : 0);
  const out = Buffer.alloc(headerLength + data.length);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  if (form === 7) out[1] = maskBit | Number(declared);
  else if (form === 16) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(Number(declared), 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(declared, 2);
  }
  out.set(data, headerLength);
  if (masked) {
    const key = spec.key ?? DEFAULT_KEY;
    for (let i = 0; i < 4; i++) out[2 + extra + i] = key[i];
    // RFC 6455 section 5.3: octet i of the payload is XORed with octet i MOD 4 of the key.
    for (let i = 0; i < data.length; i++) out[headerLength + i] ^= key[i & 3];
  }
  return out;
}

export interface Frame {
  fin: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4). */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Unmasked payload (a copy: it stays valid after more bytes are pushed). */
  payload: Buffer;
}

/** Incremental frame reader: feed it chunks as they arrive, it returns the complete frames. Linear in the bytes read. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      const f = this.tryFrame();
      if (!f) return frames;
      frames.push(f);
    }
  }

  /** Bytes held that do not yet make a complete frame. */
  get pending(): number {
    return this.buffered;
  }

  /** The first `n` bytes in one buffer, joining chunks only when the first is too short. */
  private peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private consume(n: number): Buffer {
    const out = Buffer.from(this.peek(n)!.subarray(0, n));
    const head = this.chunks[0];
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.buffered -= n;
    return out;
  }

  private tryFrame(): Frame | undefined {
    const h = this.peek(2);
    if (!h) return undefined;
    const masked = (h[1] & 0x80) !== 0;
    const len7 = h[1] & 0x7f;
    const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLength = 2 + extra + (masked ? 4 : 0);
    const hdr = this.peek(headerLength);
    if (!hdr) return undefined;
    const len = len7 === 126 ? hdr.readUInt16BE(2) : len7 === 127 ? Number(hdr.readBigUInt64BE(2)) : len7;
    if (this.buffered < headerLength + len) return undefined;
    const header = this.consume(headerLength);
    const payload = len === 0 ? Buffer.alloc(0) : this.consume(len);
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= header[2 + extra + (i & 3)];
    return {
      fin: (header[0] & 0x80) !== 0,
      rsv: (header[0] >> 4) & 7,
      opcode: header[0] & 0x0f,
      masked,
      payload,
    };
  }
}

/** Reads the frames of a complete byte vector (trailing bytes of an incomplete frame are ignored). */
export function readFrames(bytes: Buffer): Frame[] {
  return new FrameReader().push(bytes);
}
