// The library's log in Node: the same records Python's logging receives,
// for a function (setLogger) or stderr (WAYFINDER_TOKENS_LOG), never a secret.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'

import { setLogger } from 'wayfinder-tokens'

import { ADMIN, setup } from './support.mjs'

test('setLogger receives the requests and retries, and null turns it off', async (t) => {
  const { client, emulator } = await setup(t, { maxRetries: 2 })
  const records = []
  setLogger((r) => records.push(r), 'debug')
  t.after(() => setLogger(null))
  emulator.injectFault({ pathPrefix: '/api/v2/whoami', status: 503, times: 1 })
  const issued = await client.createWorkspaceAccessToken('logged')
  await client.whoami()
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(records.length > 0, 'records arrive')
  assert.ok(records.every((r) => r.target.startsWith('wayfinder_tokens')))
  assert.ok(
    records.some((r) => r.level === 'info' && /retrying/.test(r.message)),
    JSON.stringify(records),
  )
  const text = JSON.stringify(records)
  assert.ok(!text.includes(issued.token) && !text.includes(ADMIN), 'no secret in the log')
  setLogger(null)
  const before = records.length
  await client.whoami()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(records.length, before)
  assert.throws(
    () => setLogger(() => {}, 'loud'),
    (e) => e.code === 'VALIDATION',
  )
})

test('WAYFINDER_TOKENS_LOG writes the log to stderr', async (t) => {
  const { emulator } = await setup(t)
  const script = `
    import { Client } from 'wayfinder-tokens'
    const client = new Client({ server: process.env.SERVER, token: process.env.TOKEN })
    await client.whoami()
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, WAYFINDER_TOKENS_LOG: 'debug', SERVER: emulator.url, TOKEN: ADMIN },
    encoding: 'utf8',
  })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stderr, /wayfinder-tokens debug wayfinder_tokens/)
  assert.ok(!run.stderr.includes(ADMIN))
})
