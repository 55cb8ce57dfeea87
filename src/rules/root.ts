/**
 * @fileoverview Finds the package root (the folder holding `rules/schema.json`) from source or from `dist/`.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/** Absolute path of the ztscan package root. */
export function packageRoot(): string {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'rules', 'schema.json')) && existsSync(join(dir, 'package.json'))) return (cached = dir)
    const up = dirname(dir)
    if (up === dir) throw new Error('ztscan: cannot find the package root (rules/schema.json)')
    dir = up
  }
}
