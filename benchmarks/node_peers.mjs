// The Node peers of `make bench`: the library's Client, and hand-written
// fetch and undici (request over a keep-alive Pool) clients making exactly
// the same HTTP calls (create, then issue). Prints one JSON object: bulk
// throughput, the process's CPU time per create over the bulk run, latency.
// `fetch` trusts an HTTPS server's CA through NODE_EXTRA_CA_CERTS. Each run
// imports only the client it measures: undici's modules alone hold ~5 MB of
// heap, which must not count in the library's memory figures.
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const GV = 'accesstokens.appvia.io/v2beta1'

async function library(url, token, ca) {
  const { Client } = await import('wayfinder-tokens')
  const client = new Client({ server: url, token, caCertificate: ca })
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

async function undiciPool(url, token, ca) {
  // As undici's documentation has it: one Pool per origin, keep-alive, request().
  const { Pool } = await import('undici')
  const pool = new Pool(url, { connections: 64, connect: ca ? { ca } : undefined })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  return async (name, workspace) => {
    const collection = `/resources/${GV}/workspaces/${workspace}/workspaceaccesstokens`
    const body = JSON.stringify({
      apiVersion: GV,
      kind: 'WorkspaceAccessToken',
      metadata: { name, namespace: `ws-${workspace}` },
      spec: {},
    })
    const created = await pool.request({ path: collection, method: 'POST', headers, body })
    if (created.statusCode >= 300) throw new Error(`create ${name}: ${created.statusCode}`)
    await created.body.json()
    const issued = await pool.request({ path: `${collection}/${name}/token`, method: 'POST', headers })
    if (issued.statusCode >= 300) throw new Error(`issue ${name}: ${issued.statusCode}`)
    if (typeof (await issued.body.json()).token !== 'string') throw new Error('no token')
  }
}

/** CPU time (user + system) of this process, in microseconds. */
function cpuUs() {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** CPU time so far, in microseconds, of the JavaScript thread (`main`) and of the
 * library's own threads (`runtime`: tokio's, named wayfinder-tokens), from each thread's
 * /proc schedstat; null where there is no such file (not Linux). */
function threadCpuUs() {
  let tids
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return null
  }
  const totals = { main: 0, runtime: 0 }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      if (tid === String(process.pid)) totals.main += ns / 1000
      else if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('wayfinder-token'))
        totals.runtime += ns / 1000
    } catch {
      // The thread exited between the listing and the read: its time counts as `other`.
    }
  }
  return totals
}

/** Per create between two `threadCpuUs()` readings; `other` is the rest of the
 * process's CPU (V8's helper threads, libuv's pool). */
function byThread(before, after, cpuPerCreate, count) {
  if (!before || !after) return undefined
  const main = (after.main - before.main) / count
  const runtime = (after.runtime - before.runtime) / count
  return { main, runtime, other: Math.max(cpuPerCreate - main - runtime, 0) }
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
  const [checkpoints, heap, external, used] = [[], [], [], []]
  for (let n = 0; n < 10; n++) {
    await bulk(create, `${prefix}-${n}`, step, concurrency, 20)
    globalThis.gc?.()
    const usage = process.memoryUsage()
    const mb = (bytes) => Math.round((bytes / 1e6) * 100) / 100
    checkpoints.push(mb(usage.rss))
    // Where it is: V8's heap, or native memory (the addon, buffers).
    heap.push(mb(usage.heapTotal))
    external.push(mb(usage.external))
    used.push(mb(usage.heapUsed))
  }
  return { rss_mb_checkpoints: checkpoints, heap_total_mb: heap, heap_used_mb: used, external_mb: external }
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
    warmup: { type: 'string', default: '0' },
    latency: { type: 'string', default: '500' },
    memory: { type: 'string', default: '0' },
    ca: { type: 'string' },
  },
})
/** No client at all: each "create" waits one event-loop turn and returns a
 * small object. What V8 does on its own under the same 32 workers (its young
 * generation grows in steps as objects survive), the baseline for memory. */
function runtimeOnly() {
  return async (name, workspace) => {
    await new Promise((resolve) => setImmediate(resolve))
    return { name, workspace, token: `wft_${name}` }
  }
}

const peers = { lib: library, fetch: handWritten, undici: undiciPool, runtime: runtimeOnly }
const ca = args.ca ? readFileSync(args.ca, 'utf8') : undefined
const create = await peers[args.peer](args.url, args.token, ca)
await create(`${args.prefix}-warm`, 'ws0')
let result
if (Number(args.memory) > 0) {
  result = await memory(create, args.prefix, Number(args.memory), Number(args.concurrency))
} else {
  const count = Number(args.count)
  // Untimed, so a JIT-compiled peer is measured warm, as a long-lived process runs.
  if (Number(args.warmup) > 0)
    await bulk(create, `${args.prefix}-w`, Number(args.warmup), Number(args.concurrency), Number(args.workspaces))
  const [cpu, threads] = [cpuUs(), threadCpuUs()]
  const bulkPerS = await bulk(create, args.prefix, count, Number(args.concurrency), Number(args.workspaces))
  const cpuPerCreate = (cpuUs() - cpu) / count
  result = {
    bulk_per_s: bulkPerS,
    cpu_us_per_create: cpuPerCreate,
    cpu_us_per_create_by_thread: byThread(threads, threadCpuUs(), cpuPerCreate, count),
    latency_ms: await latency(create, args.prefix, Number(args.latency)),
  }
}
console.log(JSON.stringify(result))
