// The Node peers of `make bench`: the library's Client and a hand-written
// fetch client making exactly the same HTTP calls (create, then issue).
// Prints one JSON object.
import { parseArgs } from 'node:util'

import { Client } from 'wayfinder-tokens'

const GV = 'accesstokens.appvia.io/v2beta1'

function library(url, token) {
  const client = new Client({ server: url, token })
  return (name, workspace) => client.createWorkspaceAccessToken(name, { workspace })
}

function handWritten(url, token) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  return async (name, workspace) => {
    const collection = `${url}/resources/${GV}/workspaces/${workspace}/workspaceaccesstokens`
    const body = {
      apiVersion: GV,
      kind: 'WorkspaceAccessToken',
      metadata: { name, namespace: `ws-${workspace}` },
      spec: {},
    }
    const created = await fetch(collection, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!created.ok) throw new Error(`create ${name}: ${created.status}`)
    await created.json()
    const issued = await fetch(`${collection}/${name}/token`, { method: 'POST', headers })
    if (!issued.ok) throw new Error(`issue ${name}: ${issued.status}`)
    if (typeof (await issued.json()).token !== 'string') throw new Error('no token')
  }
}

async function bulk(create, prefix, count, concurrency, workspaces) {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      await create(`${prefix}-b${i}`, `ws${i % workspaces}`)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return count / ((performance.now() - started) / 1000)
}

async function latency(create, prefix, count) {
  const samples = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await create(`${prefix}-l${i}`, 'latency')
    samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  const at = (p) => samples[Math.round((samples.length - 1) * p)]
  return { p50: at(0.5), p99: at(0.99) }
}

async function memory(create, prefix, count, concurrency) {
  // RSS after the first tenth (warm-up), then at each further tenth.
  const step = Math.max(Math.floor(count / 10), 1)
  const checkpoints = []
  for (let n = 0; n < 10; n++) {
    await bulk(create, `${prefix}-${n}`, step, concurrency, 20)
    globalThis.gc?.()
    checkpoints.push(Math.round((process.memoryUsage().rss / 1e6) * 100) / 100)
  }
  const [start, end] = [checkpoints[0], checkpoints.at(-1)]
  return {
    rss_mb_start: start,
    rss_mb_end: end,
    rss_mb_checkpoints: checkpoints,
    growth_mb_per_10k: ((end - start) * 10_000) / (step * 9),
  }
}

const { values: args } = parseArgs({
  options: {
    peer: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
    prefix: { type: 'string' },
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    workspaces: { type: 'string', default: '20' },
    latency: { type: 'string', default: '500' },
    memory: { type: 'string', default: '0' },
  },
})
const create = (args.peer === 'lib' ? library : handWritten)(args.url, args.token)
await create(`${args.prefix}-warm`, 'ws0')
const result =
  Number(args.memory) > 0
    ? await memory(create, args.prefix, Number(args.memory), Number(args.concurrency))
    : {
        bulk_per_s: await bulk(
          create,
          args.prefix,
          Number(args.count),
          Number(args.concurrency),
          Number(args.workspaces),
        ),
        latency_ms: await latency(create, args.prefix, Number(args.latency)),
      }
console.log(JSON.stringify(result))
