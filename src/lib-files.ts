/**
 * @fileoverview Reading files that ztscan is handed (configuration, exports, certificates, keys, nmap XML): only regular
 * files, opened without blocking, and bounded by the bytes actually read (never by `stat`, which says 0 for `/dev/zero`).
 */
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { AttemptFailure } from './errors.ts'
import { parseConfigText } from './engine/redact.ts'

/** What was wrong with a file. */
export type FileProblem = { readonly kind: 'errno'; readonly code: string } | { readonly kind: 'special'; readonly type: string } | { readonly kind: 'size'; readonly limit: number }

/**
 * Why a file could not be read: an errno (`ENOENT`), not a regular file (a device, FIFO, socket, directory), or too large.
 * The message is the detail without the path (`cannot read (ENOENT)`); `code` is the errno code when there is one.
 */
export class FileError extends Error {
  override readonly name = 'FileError'
  readonly path: string
  readonly problem: FileProblem
  constructor(path: string, problem: FileProblem) {
    super(FileError.detail(problem))
    this.path = path
    this.problem = problem
  }

  /** The errno code (`ENOENT`), when the system refused. */
  get code(): string | undefined {
    return this.problem.kind === 'errno' ? this.problem.code : undefined
  }

  /** `cannot read (ENOENT)`, `not a regular file (a FIFO)`, `more than the 1024-byte limit`. */
  static detail(p: FileProblem): string {
    return p.kind === 'errno' ? `cannot read (${p.code})` : p.kind === 'special' ? `not a regular file (${p.type})` : `more than the ${p.limit}-byte limit`
  }

  /** The same problem as an `input` failure of a check attempt. */
  toAttemptFailure(prefix = this.path): AttemptFailure {
    return new AttemptFailure('input', `${prefix}: ${FileError.detail(this.problem)}`, { code: this.code })
  }
}

/** The system's refusal of `path` as a FileError (its errno code, else the message). */
const errnoOf = (path: string, err: unknown): FileError => new FileError(path, { kind: 'errno', code: (err as NodeJS.ErrnoException).code ?? (err as Error).message })

function fileType(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

/**
 * Opens a regular file for reading. `O_NONBLOCK` keeps the open of a FIFO from waiting for a writer (which would hold a
 * libuv thread for ever); the handle is then checked with `fstat` (no race with a swapped path) and closed unless regular.
 * @throws FileError
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  let fh: FileHandle
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw errnoOf(path, err)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new FileError(path, { kind: 'special', type: fileType(st) })
    return fh
  } catch (err) {
    await fh.close()
    if (err instanceof FileError) throw err
    throw errnoOf(path, err)
  }
}

const CHUNK = 1024 * 1024

/**
 * The chunks of a regular file (up to 1 MiB each, fresh buffers), counting the bytes actually read: a file that grows
 * while being read is cut off at `maxBytes`, not trusted by its size; an aborted `signal` ends the read with its reason.
 * @throws FileError
 */
export async function* fileChunks(path: string, maxBytes: number, signal?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  const fh = await openRegularFile(path)
  try {
    let total = 0
    for (;;) {
      signal?.throwIfAborted()
      // One byte more than the limit tells "exactly at the limit" from "over it".
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total))
      let n: number
      try {
        n = (await fh.read(buf, 0, buf.length, null)).bytesRead
      } catch (err) {
        throw errnoOf(path, err)
      }
      if (n === 0) return
      total += n
      if (total > maxBytes) throw new FileError(path, { kind: 'size', limit: maxBytes })
      yield n === buf.length ? buf : buf.subarray(0, n)
    }
  } finally {
    await fh.close()
  }
}

/**
 * Reads a regular file of at most `maxBytes` bytes, counting the bytes actually read (a file that grows while being read is
 * cut off at the limit, not trusted by its size).
 * @throws FileError
 */
export async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of fileChunks(path, maxBytes)) {
    chunks.push(chunk)
    total += chunk.length
  }
  return Buffer.concat(chunks, total)
}

/** Reads at most `maxBytes` of a regular file; anything else is an `input` failure naming the file. */
export async function readFileCapped(path: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
  try {
    return await readBounded(path, maxBytes)
  } catch (err) {
    throw err instanceof FileError ? err.toAttemptFailure() : err
  }
}

/**
 * Streams a regular file in chunks of up to 1 MiB, counting the bytes actually read: more than `maxBytes` is an `input`
 * failure, as are a device, FIFO or directory; an aborted `signal` ends the read with its reason. Each chunk is a fresh
 * buffer the caller may keep.
 */
export async function* streamFileCapped(path: string, maxBytes: number, signal?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  try {
    yield* fileChunks(path, maxBytes, signal)
  } catch (err) {
    throw err instanceof FileError ? err.toAttemptFailure() : err
  }
}

/** The most a report read back (a baseline, a `merge` part) may hold. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024

/** Default cap of a file or document read as a stream (exports too large to hold whole): 16 GiB. */
export const MAX_STREAM_BYTES = 16 * 1024 ** 3

/** The most a configuration file (policy, suppressions, targets, plugin list) may hold. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024

/**
 * Reads and parses a YAML or JSON file (JSON is YAML; `.json` files are parsed as strict JSON). `fail(expected)` builds
 * the error thrown when the file cannot be read or parsed. Aliases are capped (no billion-laughs expansion).
 */
export async function readConfigFile(path: string, fail: (expected: string) => Error): Promise<unknown> {
  let text: string
  try {
    text = (await readBounded(path, MAX_CONFIG_BYTES)).toString('utf8')
  } catch (err) {
    if (!(err instanceof FileError)) throw err
    const p = err.problem
    throw fail(p.kind === 'errno' ? `a readable file (${p.code})` : p.kind === 'special' ? `a regular file (got ${p.type})` : `a file of at most ${p.limit} bytes`)
  }
  // Secrets under secret keys are redacted from every parser message (see parseConfigText).
  return parseConfigText(text, /\.json$/i.test(path) ? 'json' : 'yaml', fail)
}
