import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from './support/service-process.js';

import { generateApiTypes, SCHEMA_FILE } from '../web/scripts/gen-api.mjs';

describe('console API types', () => {
  it('web/src/api/schema.d.ts is what the service OpenAPI document generates today (npm run gen:api)', async () => {
    assertBuilt();
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    execFileSync(process.execPath, ['dist/src/openapi/export.js', file], { timeout: 60_000 });
    const generated = await generateApiTypes(JSON.parse(readFileSync(file, 'utf8')));
    const checkedIn = readFileSync(SCHEMA_FILE, 'utf8');
    expect(checkedIn === generated, 'the API changed: run "npm run gen:api" and commit web/src/api/schema.d.ts').toBe(
      true,
    );
  });
});
