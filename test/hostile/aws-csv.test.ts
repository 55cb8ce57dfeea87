/**
 * @fileoverview Hostile AWS credential reports (CSV): one 32 MB field, 32 MB of newlines, 32 MB of commas, and more rows
 * than any account can have, through the built CLI. Each is an input error (or an empty report judged as such), with
 * bounded time and peak RSS: the parser slices runs instead of appending characters one at a time (one 64 MB field took
 * 20 s and 2.2 GB), skips blank lines without allocating, and bounds rows and columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCsv } from '../../checks/mfa/exports.ts'
import type { ScanReport } from '../../src/types.ts'
import { ensureBuilt, runCli } from './cli.ts'

const SIZE = 32 * 1024 * 1024
const RSS_MB = 600
const HEADER = 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'

describe('parseCsv bounds', () => {
  it('blank lines are skipped; rows and columns are bounded', () => {
    expect(parseCsv('\n\n\r\na,b\n\n1,2\n\n')).toEqual([['a', 'b'], ['1', '2']])
    expect(() => parseCsv('a\nb\nc\n', { maxRows: 2, maxColumns: 10 })).toThrow(/more than 2 rows/)
    expect(() => parseCsv('a,b,c\n', { maxRows: 10, maxColumns: 2 })).toThrow(/line 1: more than 2 columns/)
  })
})

describe('hostile credential reports through the built CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-csv-'))
  beforeAll(ensureBuilt, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const row = (i: number): string => `u${i},arn:aws:iam::123456789012:user/u${i},2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`
  it.each([
    { name: 'one 32 MB field', body: () => 'a'.repeat(SIZE), message: /line 1: expected a column "user"/ },
    { name: 'an unterminated 32 MB quoted field', body: () => `"${'a'.repeat(SIZE)}`, message: /line 1: expected a column "user"/ },
    { name: '32 MB of newlines', body: () => '\n'.repeat(SIZE), message: /line 1: expected the credential report header/ },
    { name: '32 MB of commas', body: () => ','.repeat(SIZE), message: /not a credential report \(line 1: more than 256 columns\)/ },
    { name: 'more rows than an account can have', body: () => [HEADER, ...Array.from({ length: 100_001 }, (_, i) => row(i))].join('\n'), message: /not a credential report \(more than 100000 rows\)/ },
  ])('$name', async ({ body, message }) => {
    const file = join(dir, 'credential-report.csv')
    writeFileSync(file, body())
    const r = await runCli(['scan', '-q', '--format', 'json', '--fail-on', 'none', `idp:aws:${file}`], { killAfterMs: 90_000 })
    expect(r.code, r.stderr.slice(0, 300)).not.toBeNull()
    expect(r.code).not.toBe(3)
    expect(r.rssMb, 'peak RSS (MB)').toBeLessThan(RSS_MB)
    const text = r.code === 2 ? r.stderr : ((JSON.parse(r.stdout) as ScanReport).errors.find((e) => e.reason === 'input')?.message ?? '')
    expect(text).toMatch(message)
  }, 120_000)
})
