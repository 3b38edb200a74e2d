import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createDatabase, migrations } from '@aharadar/db';
import { sql } from 'kysely';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../../../test/support/services.js';
import { runRadar } from './harness.js';

describe('radar migrate', () => {
  const name = `radar_test_cli_migrate_${randomBytes(3).toString('hex')}`;
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.toString(), REDIS_URL: TEST_REDIS_URL };

  after(async () => {
    const admin = createDatabase({ url: ADMIN_DATABASE_URL, maxConnections: 1 });
    try {
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin.db);
    } finally {
      await admin.close();
    }
  });

  it('creates a missing database, applies the migrations, and is idempotent', async () => {
    const first = await runRadar(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    const count = Object.keys(migrations).length;
    const names = Object.keys(migrations).join(', ');
    assert.equal(first.stdout, `created database "${name}"\napplied ${count} migration${count === 1 ? '' : 's'}: ${names}\n`);

    const second = await runRadar(['migrate', '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { database: name, created: false, applied: [], alreadyApplied: Object.keys(migrations).length });

    const list = await runRadar(['topic', 'list', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });
});
