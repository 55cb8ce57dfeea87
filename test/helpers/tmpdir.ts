/**
 * @fileoverview A TMPDIR of a describe block's own. Spill files go to os.tmpdir(), which reads TMPDIR: with one per block,
 * a test counting spill directories does not count those other test files spill at the same time (vitest runs files in
 * parallel).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

/** Points TMPDIR at a new directory for the enclosing describe block; restores it and removes the directory after. */
export function privateTmpdir(prefix = 'ztscan-test-'): void {
  const sharedTmp = process.env.TMPDIR
  beforeAll(() => {
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => {
    const own = process.env.TMPDIR!
    if (sharedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = sharedTmp
    rmSync(own, { recursive: true, force: true })
  })
}

/** The spill directories in the current TMPDIR. */
export const spillDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('ztscan-spill-'))
