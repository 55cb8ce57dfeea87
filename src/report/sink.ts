/**
 * @fileoverview A writable sink for report writers: text is gathered into chunks of about 64 KiB and written with
 * backpressure, so a report of any size is never one string (V8 caps a string at ~512 MB) and memory stays bounded by
 * the chunk size plus the largest single piece.
 */
import { WriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import type { Writable } from 'node:stream'

/** Bytes (UTF-16 units) gathered before a write. */
export const CHUNK = 64 * 1024

/** Buffers text into bounded chunks and writes them to `out`, waiting for `drain` when the stream asks. */
export class ChunkSink {
  /** Pieces gathered for the next write, and their size (string length or bytes). */
  #parts: (string | Buffer)[] = []
  #size = 0
  readonly #out: Writable
  /**
   * Blocks of CHUNK bytes handed out by {@link block}, by their memory, and those written since (free to hand out
   * again): only for a file stream, which is done with a chunk when it calls the chunk's write callback.
   */
  readonly #blocks: WeakMap<ArrayBufferLike, Buffer> | undefined
  readonly #free: Buffer[] = []
  constructor(out: Writable) {
    this.#out = out
    this.#blocks = out instanceof WriteStream ? new WeakMap() : undefined
    // An error (ENOSPC, EPIPE) must not crash the process between writes: it stops the writes, and `close()` reports it.
    out.on('error', () => {})
  }

  /**
   * Adds text (or UTF-8 bytes, copied as they are); returns a promise only when a chunk was written and the stream asked
   * to wait.
   */
  push(s: string | Buffer): Promise<void> | undefined {
    // A piece that would take the buffer past a chunk starts the next one: a chunk is at most CHUNK or one piece.
    if (this.#size && this.#size + s.length > CHUNK) {
      const pending = this.flush()
      this.#add(s)
      return s.length < CHUNK ? pending : (this.flush() ?? pending)
    }
    this.#add(s)
    if (this.#size < CHUNK) return undefined
    return this.flush()
  }

  /**
   * A buffer of at least `n` bytes for the caller to fill and {@link push} (a part of it): to a file, a block of CHUNK
   * bytes already written is reused. Each new buffer is memory outside V8's heap, and V8 answers that memory's growth
   * with collections: a 340 MB report written in fresh 64 KiB blocks cost about twenty full collections.
   */
  block(n: number): Buffer {
    if (n > CHUNK || !this.#blocks) return Buffer.allocUnsafe(Math.max(CHUNK, n))
    const b = this.#free.pop()
    if (b) return b
    const fresh = Buffer.allocUnsafe(CHUNK)
    this.#blocks.set(fresh.buffer, fresh)
    return fresh
  }

  /** Takes back the block `b` (a part of) once its bytes were written or copied. */
  #reuse(b: string | Buffer): void {
    if (typeof b === 'string') return
    const block = this.#blocks?.get(b.buffer)
    // Bounded: at most the blocks a full stream buffer holds (FILE_BUFFER / CHUNK) are kept.
    if (block && this.#free.length < 128) this.#free.push(block)
  }

  #add(s: string | Buffer): void {
    if (!s.length) return
    this.#parts.push(s)
    this.#size += s.length
  }

  /**
   * Writes what is buffered. A stream that failed (a closed pipe: `ztscan … | head`) takes no more text; its error
   * surfaces where it belongs — `close()` rejects for a file, the CLI's stdout handler deals with a closed pipe.
   */
  flush(): Promise<void> | undefined {
    const out = this.#out
    const parts = this.#parts
    this.#parts = []
    this.#size = 0
    if (!parts.length || out.destroyed) return undefined
    const chunk = parts.length === 1 ? parts[0]! : parts.every((p) => typeof p === 'string') ? parts.join('') : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)))
    let ok: boolean
    if (this.#blocks) {
      // Copied parts are free now; a block written as it is, once the file stream has written it.
      if (chunk !== parts[0]) for (const p of parts) this.#reuse(p)
      ok = typeof chunk === 'string' ? out.write(chunk) : out.write(chunk, () => this.#reuse(chunk))
    } else ok = out.write(chunk)
    if (ok) return undefined
    return new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done)
        out.off('close', done)
        out.off('error', done)
        resolve()
      }
      out.once('drain', done)
      out.once('close', done)
      out.once('error', done)
    })
  }

  /** Writes the rest and, unless `end` is false, ends the stream and waits until it has finished. */
  async close(end = true): Promise<void> {
    await this.flush()
    if (!end) return
    this.#out.end()
    await finished(this.#out)
  }
}
