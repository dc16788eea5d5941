// Asks the JavaScript SDK's own modules (sdk/js/streamplug/errors.js,
// settings.js and packed.js: they need no component) the questions on stdin, one JSON
// object per line, and answers each with one JSON line. Used by
// tests/integration/sdk_rules.rs.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const sdk = process.argv[2];
const errors = await import(pathToFileURL(`${sdk}/errors.js`).href);
const settings = await import(pathToFileURL(`${sdk}/settings.js`).href);
const packed = await import(pathToFileURL(`${sdk}/packed.js`).href);

function shape(fields) {
  const out = {};
  for (const f of fields) {
    const kind = f.kind === 'integer' ? 'number' : f.kind;
    if (f.required) out[f.name] = settings.required(kind);
    else if ('default' in f) out[f.name] = f.default;
    else out[f.name] = settings.optional(kind);
  }
  return out;
}

async function answer(q) {
  switch (q.ask) {
    case 'wit': {
      let thrown;
      try {
        errors.hostCall('call', q.variant, () => {
          throw { payload: { tag: q.case, val: 'x' } };
        });
      } catch (e) {
        thrown = e;
      }
      return { retries: errors.retries(q.variant, q.case), from_wit: thrown.retry };
    }
    case 'status': {
      const response = { ok: q.status < 300, status: q.status, url: 'u', text: async () => '' };
      try {
        await errors.checkStatus(response);
        return { retries: null };
      } catch (e) {
        return { retries: e.retry };
      }
    }
    case 'config':
      try {
        return { ok: settings.parse(shape(q.fields), q.values) };
      } catch (e) {
        return { error: e.message };
      }
    case 'pack':
      return {
        hex: Buffer.from(packed.encode(q.value)).toString('hex'),
        decoded: packed.decode(new Uint8Array(Buffer.from(q.rust, 'hex'))),
      };
    case 'unpack':
      try {
        return { ok: packed.decode(new Uint8Array(Buffer.from(q.hex, 'hex'))) };
      } catch (e) {
        if (!(e instanceof packed.PackError)) throw e;
        return { error: e.message, rejects: e instanceof errors.Reject };
      }
    default:
      throw new Error(JSON.stringify(q));
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  console.log(JSON.stringify(await answer(JSON.parse(line))));
}
