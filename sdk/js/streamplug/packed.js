// The packed encoding of KV values: compact, binary and cheap to read and
// write, for state a plugin rewrites on every event (tables of weights,
// per-customer documents). The same bytes as the Rust SDK's
// `streamplug_sdk::packed` and the Python SDK's `streamplug.packed`.
//
// A packed value is the byte 0xC1 followed by the value in MessagePack
// (https://github.com/msgpack/msgpack/blob/master/spec.md). 0xC1 is the one
// byte MessagePack never uses and no JSON text starts with, so `decode` also
// reads a value stored as JSON (`kv.setJson`): a plugin can move its state to
// the packed encoding in a new version without a migration.
//
// Types: null (and undefined), booleans, numbers (integers up to 2^53 in
// their shortest integer form, as every MessagePack library writes them;
// other numbers as float 64), BigInt (64 bits), strings, Uint8Array
// (MessagePack bin), arrays, Maps and plain objects (maps; an object's
// properties that are `undefined` are left out, as JSON.stringify does).
// Maps read back as plain objects, 64-bit integers beyond 2^53 as BigInt.
// The codec is small and written here because the SDK is plain source that
// componentize-js compiles as is, without a bundler for npm packages.
import { Reject } from './errors.js';

export const TAG = 0xc1;

const MAX_DEPTH = 256;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A value that cannot be packed, or bytes that are not a packed value (nor
 * JSON). Uncaught, it rejects the event, like the Rust SDK's `PackError`. */
export class PackError extends Reject {
  constructor(reason) {
    super(reason);
    this.name = 'PackError';
  }
}

/** `value`, packed (a Uint8Array). */
export function encode(value) {
  const writer = new Writer();
  writer.byte(TAG);
  writer.value(value, 0);
  return writer.done();
}

/** The value in `bytes`: packed, or JSON (what `kv.setJson` stores). */
export function decode(bytes) {
  if (bytes.length > 0 && bytes[0] === TAG) {
    const reader = new Reader(bytes, 1);
    try {
      return reader.value(0);
    } catch (e) {
      if (e instanceof PackError) throw e;
      throw new PackError(`invalid packed value: ${e.message}`);
    }
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new PackError(`neither a packed value nor JSON: ${e.message}`);
  }
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.view = new DataView(this.buf.buffer);
    this.len = 0;
  }

  room(n) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(b) {
    this.room(1);
    this.buf[this.len++] = b;
  }

  bytes(raw) {
    this.room(raw.length);
    this.buf.set(raw, this.len);
    this.len += raw.length;
  }

  // A type byte followed by a big-endian number of `size` bytes.
  fixed(code, size, n, signed = false) {
    this.room(1 + size);
    this.buf[this.len] = code;
    const at = this.len + 1;
    if (size === 1) signed ? this.view.setInt8(at, n) : this.view.setUint8(at, n);
    else if (size === 2) signed ? this.view.setInt16(at, n) : this.view.setUint16(at, n);
    else if (size === 4) signed ? this.view.setInt32(at, n) : this.view.setUint32(at, n);
    else signed ? this.view.setBigInt64(at, BigInt(n)) : this.view.setBigUint64(at, BigInt(n));
    this.len = at + size;
  }

  // The header of a string, binary, array or map of `length` items.
  head(length, fix, fixBound, c8, c16, c32) {
    if (fix !== null && length < fixBound) this.byte(fix | length);
    else if (c8 !== null && length < 0x100) this.fixed(c8, 1, length);
    else if (length < 0x10000) this.fixed(c16, 2, length);
    else if (length < 0x100000000) this.fixed(c32, 4, length);
    else throw new PackError('cannot pack the value: longer than 2^32 - 1');
  }

  value(v, depth) {
    if (depth > MAX_DEPTH) throw new PackError('cannot pack the value: nested too deeply');
    if (v === null || v === undefined) this.byte(0xc0);
    else if (v === true) this.byte(0xc3);
    else if (v === false) this.byte(0xc2);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) this.int(v);
      else this.float(v);
    } else if (typeof v === 'bigint') {
      if (v >= -(2n ** 63n) && v < 2n ** 64n) this.int(v);
      else throw new PackError(`cannot pack the value: ${v} does not fit in 64 bits`);
    } else if (typeof v === 'string') {
      const raw = utf8.encode(v);
      this.head(raw.length, 0xa0, 32, 0xd9, 0xda, 0xdb);
      this.bytes(raw);
    } else if (v instanceof Uint8Array) {
      this.head(v.length, null, 0, 0xc4, 0xc5, 0xc6);
      this.bytes(v);
    } else if (Array.isArray(v)) {
      this.head(v.length, 0x90, 16, null, 0xdc, 0xdd);
      for (const item of v) this.value(item, depth + 1);
    } else if (v instanceof Map) {
      this.head(v.size, 0x80, 16, null, 0xde, 0xdf);
      for (const [key, item] of v) {
        this.value(key, depth + 1);
        this.value(item, depth + 1);
      }
    } else if (typeof v === 'object') {
      const keys = Object.keys(v).filter((key) => v[key] !== undefined);
      this.head(keys.length, 0x80, 16, null, 0xde, 0xdf);
      for (const key of keys) {
        this.value(key, depth + 1);
        this.value(v[key], depth + 1);
      }
    } else {
      throw new PackError(`cannot pack the value: a ${typeof v} is not packable`);
    }
  }

  float(v) {
    this.room(9);
    this.buf[this.len] = 0xcb;
    this.view.setFloat64(this.len + 1, v);
    this.len += 9;
  }

  // An integer (a Number that is a safe integer, or a BigInt) in its
  // shortest form.
  int(n) {
    const big = typeof n === 'bigint';
    const zero = big ? 0n : 0;
    const small = big ? Number(n) : n;
    if (n >= zero) {
      if (small < 0x80) this.byte(small);
      else if (small < 0x100) this.fixed(0xcc, 1, small);
      else if (small < 0x10000) this.fixed(0xcd, 2, small);
      else if (small < 0x100000000) this.fixed(0xce, 4, small);
      else this.fixed(0xcf, 8, n);
    } else if (small >= -32) this.byte(small & 0xff);
    else if (small >= -0x80) this.fixed(0xd0, 1, small, true);
    else if (small >= -0x8000) this.fixed(0xd1, 2, small, true);
    else if (small >= -0x80000000) this.fixed(0xd2, 4, small, true);
    else this.fixed(0xd3, 8, n, true);
  }

  done() {
    return this.buf.slice(0, this.len);
  }
}

class Reader {
  constructor(bytes, at) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = at;
  }

  // Moves past `n` bytes and returns where they start.
  skip(n) {
    const start = this.at;
    if (start + n > this.bytes.length) throw new PackError('invalid packed value: cut short');
    this.at = start + n;
    return start;
  }

  // A big-endian integer of `size` bytes.
  num(size, signed) {
    const at = this.skip(size);
    const v = this.view;
    switch (size) {
      case 1: return signed ? v.getInt8(at) : v.getUint8(at);
      case 2: return signed ? v.getInt16(at) : v.getUint16(at);
      case 4: return signed ? v.getInt32(at) : v.getUint32(at);
      default: return safe(signed ? v.getBigInt64(at) : v.getBigUint64(at));
    }
  }

  uint(size) {
    return this.num(size, false);
  }

  int(size) {
    return this.num(size, true);
  }

  str(n) {
    const at = this.skip(n);
    return fromUtf8.decode(this.bytes.subarray(at, at + n));
  }

  bin(n) {
    const at = this.skip(n);
    return this.bytes.slice(at, at + n);
  }

  value(depth) {
    if (depth > MAX_DEPTH) throw new PackError('invalid packed value: nested too deeply');
    const b = this.uint(1);
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f, depth);
    if (b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b <= 0xbf) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.uint(1));
      case 0xc5: return this.bin(this.uint(2));
      case 0xc6: return this.bin(this.uint(4));
      case 0xca: return this.view.getFloat32(this.skip(4));
      case 0xcb: return this.view.getFloat64(this.skip(8));
      case 0xcc: return this.uint(1);
      case 0xcd: return this.uint(2);
      case 0xce: return this.uint(4);
      case 0xcf: return this.uint(8);
      case 0xd0: return this.int(1);
      case 0xd1: return this.int(2);
      case 0xd2: return this.int(4);
      case 0xd3: return this.int(8);
      case 0xd9: return this.str(this.uint(1));
      case 0xda: return this.str(this.uint(2));
      case 0xdb: return this.str(this.uint(4));
      case 0xdc: return this.array(this.uint(2), depth);
      case 0xdd: return this.array(this.uint(4), depth);
      case 0xde: return this.map(this.uint(2), depth);
      case 0xdf: return this.map(this.uint(4), depth);
      default:
        throw new PackError(`invalid packed value: type byte 0x${b.toString(16)} is not supported`);
    }
  }

  array(n, depth) {
    const items = [];
    for (let i = 0; i < n; i++) items.push(this.value(depth + 1));
    return items;
  }

  map(n, depth) {
    const object = {};
    for (let i = 0; i < n; i++) {
      const key = String(this.value(depth + 1));
      // An own property even for `__proto__`, as JSON.parse makes it.
      Object.defineProperty(object, key, {
        value: this.value(depth + 1), enumerable: true, writable: true, configurable: true,
      });
    }
    return object;
  }
}

// A 64-bit integer as a Number when it is exact, else as a BigInt.
function safe(n) {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}
