/**
 * @fileoverview A writable sink for report writers: text is gathered into chunks of about 64 KiB and written with
 * backpressure, so a report of any size is never one string (V8 caps a string at ~512 MB) and memory stays bounded by
 * the chunk size plus the largest single piece.
 */
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
  constructor(out: Writable) {
    this.#out = out
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
    const ok = out.write(chunk)
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
