import { describe, expect, it } from 'vitest'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { deadline } from '../../src/net/index.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('deadline()', () => {
  it('fires its timeout even when nothing but a listener holds the signal and GC runs meanwhile', async () => {
    const parent = new AbortController()
    const fired = new Promise<string>((resolve) => deadline(parent.signal, 80).signal.addEventListener('abort', (e) => resolve(((e.target as AbortSignal).reason as Error).name)))
    for (let i = 0; i < 15; i++) {
      gc()
      await sleep(10)
    }
    expect(await fired).toBe('TimeoutError')
  })
  it('follows its parent and clear() removes timer and listener', async () => {
    const parent = new AbortController()
    const d = deadline(parent.signal, 10_000)
    parent.abort(new Error('stop'))
    expect(d.signal.aborted).toBe(true)
    expect((d.signal.reason as Error).message).toBe('stop')
    const e = deadline(parent.signal, 30)
    expect(e.signal.aborted).toBe(true) // parent already aborted
    const p2 = new AbortController()
    const f = deadline(p2.signal, 30)
    f.clear()
    await sleep(60)
    expect(f.signal.aborted).toBe(false)
  })
})
