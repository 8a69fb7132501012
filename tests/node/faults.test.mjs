import assert from 'node:assert/strict'
import { test } from 'node:test'

import { COLLECTION, attempts, setup } from './support.mjs'

const WHOAMI = '/api/v2/whoami'

test('retry then success', async (t) => {
  const { client, emulator } = await setup(t)
  await client.whoami()
  emulator.injectFault({ pathPrefix: WHOAMI, status: 503, times: 2 })
  await client.whoami()
  assert.equal(attempts(emulator, `GET ${WHOAMI}`), 4)
})

test('retry exhausted', async (t) => {
  const { client, emulator } = await setup(t, { maxRetries: 2 })
  await client.whoami()
  emulator.injectFault({ pathPrefix: WHOAMI, status: 429, times: 10, retryAfterS: 0 })
  await assert.rejects(client.whoami(), { code: 'RATE_LIMITED' })
  assert.equal(attempts(emulator, `GET ${WHOAMI}`), 1 + 3)
})

test('timeout', async (t) => {
  const { client, emulator } = await setup(t, { timeoutMs: 200 })
  await client.whoami()
  emulator.injectFault({ pathPrefix: WHOAMI, delayMs: 1500 })
  await assert.rejects(client.whoami(), { code: 'TIMEOUT' })
  assert.equal(attempts(emulator, `GET ${WHOAMI}`), 2)
})

test('dropped connection: retried when safe, never for the creating POST', async (t) => {
  const { client, emulator } = await setup(t)
  await client.whoami()
  emulator.injectFault({ pathPrefix: WHOAMI, dropConnection: true })
  await client.whoami()
  assert.equal(attempts(emulator, `GET ${WHOAMI}`), 3)
  emulator.injectFault({ pathPrefix: COLLECTION, dropConnection: true })
  await assert.rejects(client.createWorkspaceAccessToken('once'), { code: 'TRANSPORT' })
  assert.equal(attempts(emulator, `POST ${COLLECTION}`), 1)
})

test('an AbortSignal cancels an in-flight call', async (t) => {
  const { client, emulator } = await setup(t)
  await client.whoami()
  emulator.injectFault({ pathPrefix: WHOAMI, delayMs: 3000 })
  const controller = new AbortController()
  const started = Date.now()
  const call = client.whoami({ signal: controller.signal })
  setTimeout(() => controller.abort(), 50)
  await assert.rejects(call, { name: 'AbortError', code: 'ABORT_ERR' })
  assert.ok(Date.now() - started < 2500, 'rejected before the delayed answer')
  await assert.rejects(client.listWorkspaceAccessTokens({ signal: AbortSignal.abort() }), { name: 'AbortError' })
  const done = await client.whoami({ signal: new AbortController().signal })
  assert.equal(done.username, 'admin')
})
