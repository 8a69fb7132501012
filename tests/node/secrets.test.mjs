import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'

import { Client } from 'wayfinder-tokens'

import { ADMIN, setup } from './support.mjs'

test('a canary token never shows in inspect, JSON.stringify or error messages', async (t) => {
  const { client, emulator } = await setup(t, { maxRetries: 1 })
  const issued = await client.createWorkspaceAccessToken('canary', { description: 'd' })
  const canaries = [ADMIN, issued.token]
  const texts = [
    inspect(issued),
    inspect(issued, { showHidden: true, depth: 5 }),
    JSON.stringify(issued),
    String(issued),
  ]
  texts.push(inspect(client, { showHidden: true }), JSON.stringify(client), inspect(emulator))
  assert.match(inspect(issued), /canary/)
  assert.match(JSON.stringify(issued), /<redacted>/)
  const pipeline = new Client({ server: emulator.url, token: issued.token })
  await pipeline.whoami()
  await client.resetWorkspaceAccessToken('canary')
  const reasons = []
  const failing = [
    () => pipeline.whoami(),
    () => client.createWorkspaceAccessToken('canary'),
    () => client.getWorkspaceAccessToken('nope'),
  ]
  for (const fault of [{ status: 500 }, { malformedBody: true }, { dropConnection: true, times: 5 }]) {
    failing.push(() => {
      emulator.clearFaults()
      emulator.injectFault({ pathPrefix: '/', ...fault })
      return client.listWorkspaceAccessTokens()
    })
  }
  for (const call of failing) {
    await assert.rejects(call(), (e) => reasons.push(e) > 0)
  }
  emulator.clearFaults()
  for (const reason of reasons) {
    texts.push(reason.message, String(reason), inspect(reason), JSON.stringify(reason))
  }
  for (const canary of canaries) {
    for (const text of texts) {
      assert.ok(!text.includes(canary), `leaked in: ${text}`)
    }
  }
})
