// A plugin's typed configuration: the manifest's `[plugins.config]` values
// read into the shape the plugin declares as its `config`, with the same
// rules as the Rust SDK (`streamplug_sdk::config`):
//
//   export const handler = sp.plugin({
//     config: {
//       top_n: 5,                              // a number, default 5
//       topic: 'recommendations',              // a string
//       verbose: false,                        // "true" or "false"
//       notable: ['cart.item_added'],          // comma-separated strings
//       notify_url: sp.optional('string'),     // may be absent (null)
//       salesforce_url: sp.required('string'), // must be given
//     },
//     init(config) { ... config.top_n ... },
//     handle(event) { ... },
//   });
//
// Each default's type says how its text is read. A required key that is
// missing, a key the shape does not have, or a value that does not parse
// refuses the plugin with a message naming the key. Keys are compared in
// lower case, as the Rust SDK does.

const KINDS = new Set(['string', 'number', 'boolean', 'list']);

class Field {
  constructor(kind, required) {
    if (!KINDS.has(kind)) throw new TypeError(`a config field is one of ${[...KINDS].join(', ')}, not '${kind}'`);
    this.kind = kind;
    this.required = required;
  }
}

/** A key that must be given, read as `kind` ('string', 'number', 'boolean', 'list'). */
export function required(kind) {
  return new Field(kind, true);
}

/** A key that may be absent (then `null`), read as `kind`. */
export function optional(kind) {
  return new Field(kind, false);
}

function kindOf(fallback) {
  if (fallback instanceof Field) return fallback.kind;
  if (Array.isArray(fallback)) return 'list';
  const kind = typeof fallback;
  if (KINDS.has(kind)) return kind;
  throw new TypeError(`a config default is a string, number, boolean or array, not ${kind}`);
}

function read(key, text, kind) {
  switch (kind) {
    case 'string':
      return text;
    case 'list':
      return text.split(',');
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new Error(`config: \`${text}\` is not true or false, provided by ${key}`);
    default: {
      const n = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(n)) throw new Error(`config: \`${text}\` is not a number, provided by ${key}`);
      return n;
    }
  }
}

/** `values` (an object of strings) read into the shape `shape`. */
export function parse(shape, values) {
  const given = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  const keys = Object.keys(shape);
  for (const key of Object.keys(given).sort()) {
    if (!Object.hasOwn(shape, key)) {
      throw new Error(`config: unknown field \`${key}\`, expected one of ${keys.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  const out = {};
  for (const key of keys) {
    const fallback = shape[key];
    if (Object.hasOwn(given, key)) {
      out[key] = read(key, given[key], kindOf(fallback));
    } else if (fallback instanceof Field) {
      if (fallback.required) throw new Error(`config \`${key}\` is required`);
      out[key] = null;
    } else {
      out[key] = Array.isArray(fallback) ? [...fallback] : fallback;
    }
  }
  return out;
}
