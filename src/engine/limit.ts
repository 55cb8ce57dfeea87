/**
 * @fileoverview The attempt scheduler: a global concurrency limit and a per-host limit (the p-limit shape, two levels),
 * FIFO within a host and round-robin across hosts, so one slow host never holds global slots while it waits.
 * Written for scans of tens of thousands of attempts: a queued attempt is one array slot, not a promise and a closure
 * per limiter level (which is what nesting two p-limit instances costs, and what showed up as GC time in `npm run bench`).
 */

interface HostQueue {
  readonly key: string
  readonly queue: ((() => Promise<void>) | undefined)[]
  head: number
  active: number
  inReady: boolean
}

/** Runs queued tasks under a global and a per-host concurrency limit. */
export class HostScheduler {
  readonly #global: number
  readonly #perHost: number
  readonly #hosts = new Map<string, HostQueue>()
  #ready: HostQueue[] = []
  #readyHead = 0
  #active = 0
  #queued = 0
  #pumping = false
  #idle: (() => void)[] = []
  /** Highest number of tasks seen in flight at once (for tests and benches). */
  maxActive = 0

  constructor(global: number, perHost: number) {
    this.#global = global
    this.#perHost = perHost
  }

  /** Queues a task for a host. The task must not throw synchronously; its rejection is the caller's to handle. */
  add(host: string, task: () => Promise<void>): void {
    let h = this.#hosts.get(host)
    if (!h) this.#hosts.set(host, (h = { key: host, queue: [], head: 0, active: 0, inReady: false }))
    h.queue.push(task)
    this.#queued++
    this.#markReady(h)
    this.#pump()
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#queued === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #markReady(h: HostQueue): void {
    if (!h.inReady && h.active < this.#perHost && h.head < h.queue.length) {
      h.inReady = true
      this.#ready.push(h)
    }
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#active < this.#global && this.#readyHead < this.#ready.length) {
        const h = this.#ready[this.#readyHead++]!
        h.inReady = false
        if (h.active >= this.#perHost || h.head >= h.queue.length) continue
        const task = h.queue[h.head]!
        h.queue[h.head++] = undefined
        if (h.head === h.queue.length) {
          h.queue.length = 0
          h.head = 0
        }
        this.#queued--
        h.active++
        this.#active++
        if (this.#active > this.maxActive) this.maxActive = this.#active
        this.#markReady(h)
        task().then(
          () => this.#done(h),
          () => this.#done(h),
        )
      }
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead)
        this.#readyHead = 0
      }
    } finally {
      this.#pumping = false
    }
  }

  #done(h: HostQueue): void {
    h.active--
    this.#active--
    if (h.active === 0 && h.head >= h.queue.length) this.#hosts.delete(h.key)
    else this.#markReady(h)
    this.#pump()
    if (this.#active === 0 && this.#queued === 0) for (const r of this.#idle.splice(0)) r()
  }
}
