/**
 * @fileoverview Target strings and objects → normalised `Target`s with canonical ids, through the schemes the families
 * register (`registry.ts`); hosts are checked before any I/O. The shared host/port helpers are in `host.ts`.
 */
import type { Family } from '../engine/check.ts'
import type { Target } from '../types.ts'
import { registryOf } from './registry.ts'

/** Parses one target string with the schemes of `families` (default: the built-in families). */
export function parseTarget(raw: string, families?: readonly Family[]): Target {
  return registryOf(families).parse(raw)
}

/** Normalises a target given as a string or an object (objects need `kind` and `id`). */
export function normalizeTarget(t: Target | string, families?: readonly Family[]): Target {
  return registryOf(families).normalize(t)
}
