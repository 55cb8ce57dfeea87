/**
 * @fileoverview The worker thread of {@link parseNmapFile} for large files: it reads and parses the XML (saxes) while the
 * main thread judges the hosts, so the scan uses a second core. Hosts go to the main thread in batches; a shared counter
 * of batches taken keeps the worker at most `window` batches ahead (a batch is bounded by host count and by weight: ports
 * plus scripts) (a slow consumer pauses the file read: memory
 * stays bounded whatever the file size). Errors travel as plain data and are rebuilt on the main thread.
 */
import { read } from 'node:fs'
import { promisify } from 'node:util'
import { parentPort, workerData } from 'node:worker_threads'
import { NmapBatchEncoder, type NmapBatch } from './nmap-batch.ts'
import { NmapXmlError, parseNmapEvents, type NmapLimits, type NmapRun, type NmapRunStats, type NmapSummary } from './nmap-xml.ts'

/** What the main thread hands the worker. */
export interface NmapWorkerData {
  /** File descriptor of the opened regular file (threads share descriptors; the main thread closes it). */
  readonly fd: number
  readonly display: string
  readonly limits?: NmapLimits
  /** [0] = batches the main thread has taken. */
  readonly taken: Int32Array
  readonly batchHosts: number
  /** A batch is also sent when its weight (ports + their scripts) reaches this: a heavy host is a batch of its own. */
  readonly batchWeight: number
  readonly window: number
}

/** Messages from the worker, in order. */
export type NmapWorkerMessage =
  | { readonly type: 'run'; readonly run: NmapRun }
  | ({ readonly type: 'hosts' } & NmapBatch)
  | { readonly type: 'runstats'; readonly stats: NmapRunStats }
  | { readonly type: 'taskprogress'; readonly progress: { readonly task: string; readonly percent: number } }
  | { readonly type: 'done'; readonly summary: NmapSummary }
  | { readonly type: 'xml-error'; readonly file: string; readonly line: number; readonly column: number; readonly detail: string; readonly hostsBefore: number }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly code?: string }

const readAt = promisify(read)

/** The file in 256 KiB chunks, read from the descriptor without owning it (a stream would close it when destroyed). */
async function* chunks(fd: number): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buf = Buffer.allocUnsafe(256 * 1024)
    const { bytesRead } = await readAt(fd, buf, 0, buf.length, null)
    if (bytesRead === 0) return
    yield buf.subarray(0, bytesRead)
  }
}

async function work(d: NmapWorkerData): Promise<void> {
  const port = parentPort!
  const post = (m: NmapWorkerMessage): void => port.postMessage(m)
  // Hosts are recorded into the batch as they are read (no host objects here): it is sent between hosts.
  let sent = 0
  const send = (): void => {
    if (!batch.hosts) return
    const { words, strings } = batch.take()
    port.postMessage({ type: 'hosts', words, strings } satisfies NmapWorkerMessage, [words.buffer])
    sent++
    // At most `window` batches not yet taken: wait (the read pauses) until the main thread catches up.
    for (;;) {
      const taken = Atomics.load(d.taken, 0)
      if (sent - taken < d.window) break
      Atomics.wait(d.taken, 0, taken, 1_000)
    }
  }
  const batch = new (class extends NmapBatchEncoder {
    override hostEnd(partial: boolean): void {
      super.hostEnd(partial)
      if (this.hosts >= d.batchHosts || this.weight >= d.batchWeight) send()
    }
  })()
  try {
    const summary = await parseNmapEvents(
      chunks(d.fd),
      d.display,
      batch,
      {
        run: (run) => post({ type: 'run', run }), // the root element: no host before it
        runstats: (stats) => {
          send()
          post({ type: 'runstats', stats })
        },
        taskprogress: (progress) => {
          send()
          post({ type: 'taskprogress', progress })
        },
      },
      d.limits,
    )
    send()
    post({ type: 'done', summary })
  } catch (err) {
    send()
    if (err instanceof NmapXmlError) post({ type: 'xml-error', file: err.file, line: err.line, column: err.column, detail: err.detail, hostsBefore: err.hostsBefore })
    else post({ type: 'error', name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err), code: (err as NodeJS.ErrnoException)?.code })
  }
}

// Last: everything above is initialised by the time the worker starts reading.
if (parentPort && workerData) void work(workerData as NmapWorkerData)
