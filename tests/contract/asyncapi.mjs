// Parse and validate an AsyncAPI document with @asyncapi/parser (the
// AsyncAPI initiative's parser: the JSON Schema of the spec plus its
// Spectral rules). Prints the diagnostics as JSON; exits 1 on any error.
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'));
// Spectral severities: 0 error, 1 warning, 2 info, 3 hint.
const errors = diagnostics.filter((d) => d.severity === 0);
const warnings = diagnostics.filter((d) => d.severity === 1);
console.log(JSON.stringify({
  parsed: document !== undefined,
  version: document?.version(),
  channels: document?.channels().length ?? 0,
  errors: errors.map((d) => ({ code: d.code, message: d.message, path: d.path.join('/') })),
  warnings: warnings.map((d) => ({ code: d.code, message: d.message, path: d.path.join('/') })),
}, null, 1));
process.exit(document === undefined || errors.length > 0 ? 1 : 0);
