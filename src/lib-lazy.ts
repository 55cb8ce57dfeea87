/**
 * @fileoverview Heavy dependencies loaded on first use, so `ztscan rules` and `--help` start fast (issue 14.6).
 * CommonJS packages load synchronously on first access; ESM-only ones (jose) are imported where used (`await import`).
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** A getter that requires the CommonJS package `id` the first time it is called. */
export function lazyRequire<T>(id: string): () => T {
  let m: T | undefined
  return () => (m ??= require(id) as T)
}

/**
 * An object standing for `load()`'s result, loaded on the first property access: `const forge = lazyObject(() =>
 * require('node-forge'))` keeps `forge.asn1…` call sites unchanged.
 */
export function lazyObject<T extends object>(load: () => T): T {
  let real: T | undefined
  const get = (): T => (real ??= load())
  return new Proxy({} as T, {
    get: (_t, key) => Reflect.get(get(), key),
    set: (_t, key, value) => Reflect.set(get(), key, value),
    has: (_t, key) => Reflect.has(get(), key),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key)
      return d && { ...d, configurable: true }
    },
  })
}

/** `lazyObject` of a CommonJS package. */
export function lazyModule<T extends object>(id: string): T {
  return lazyObject(lazyRequire<T>(id))
}
