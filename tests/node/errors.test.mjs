import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'

import { Client } from 'wayfinder-tokens'

import { ADMIN, setup } from './support.mjs'

function isCoded(code, status) {
  return (error) => {
    assert.ok(error instanceof Error, 'an Error')
    assert.equal(error.code, code)
    assert.equal(error.status, status)
    assert.ok(Array.isArray(error.fieldErrors))
    return true
  }
}

test('VALIDATION from bad input, before any request', async (t) => {
  const { client, emulator } = await setup(t)
  const cases = [
    [() => client.createWorkspaceAccessToken('Not_Valid'), 'name'],
    [() => client.createWorkspaceAccessToken('ok', { workspace: 'BAD' }), 'workspace'],
    [() => client.createWorkspaceAccessToken('ok', { description: 'x'.repeat(513) }), 'description'],
    [() => client.createWorkspaceAccessToken('ok', { expiresIn: 'soon' }), 'expiresIn'],
    [() => client.createWorkspaceAccessToken('ok', { expiresIn: -1 }), 'expiresIn'],
    [() => client.assignAccessRole('ok', 'BAD ROLE'), 'role'],
    [() => client.assignWayfinderRole('-bad', 'a.b'), 'token'],
  ]
  for (const [call, field] of cases) {
    const run = async () => call()
    await assert.rejects(run, (e) => isCoded('VALIDATION', null)(e) && e.fieldErrors[0].field === field)
  }
  assert.throws(
    () => new Client({ server: 'http://wayfinder.example.com', token: 't' }),
    (e) => {
      return isCoded('VALIDATION', null)(e) && e.fieldErrors[0].field === 'server'
    },
  )
  assert.throws(() => new Client({ server: emulator.url, token: 't', timeoutMs: -5 }), { code: 'VALIDATION' })
  assert.equal(emulator.stats().total, 0)
})

test('CONFIG', () => {
  assert.throws(
    () => new Client({ configPath: '/nonexistent/wf/config' }),
    (e) => {
      return isCoded('CONFIG', null)(e) && e.message.includes('/nonexistent/wf/config')
    },
  )
})

test('HTTP errors carry code and status', async (t) => {
  const { client, emulator } = await setup(t, { maxRetries: 1, timeoutMs: 300 })
  await client.createWorkspaceAccessToken('dup')
  await assert.rejects(client.createWorkspaceAccessToken('dup'), isCoded('ALREADY_EXISTS', 409))
  await assert.rejects(client.getWorkspaceAccessToken('missing'), isCoded('NOT_FOUND', 404))
  await assert.rejects(new Client({ server: emulator.url, token: 'wrong' }).whoami(), isCoded('UNAUTHENTICATED', 401))
  emulator.injectFault({ pathPrefix: '/api/v2/whoami', status: 403 })
  await assert.rejects(client.whoami(), isCoded('PERMISSION_DENIED', 403))
  emulator.injectFault({ pathPrefix: '/api/v2/whoami', status: 429, times: 5 })
  await assert.rejects(client.whoami(), isCoded('RATE_LIMITED', 429))
  emulator.clearFaults()
  emulator.injectFault({ pathPrefix: '/api/v2/whoami', status: 500 })
  await assert.rejects(client.whoami(), isCoded('SERVER', 500))
  emulator.injectFault({ pathPrefix: '/api/v2/whoami', delayMs: 2000 })
  await assert.rejects(client.whoami(), isCoded('TIMEOUT', null))
})

test('TRANSPORT when nothing listens', async () => {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
  const client = new Client({ server: `http://127.0.0.1:${port}`, token: ADMIN, maxRetries: 0 })
  await assert.rejects(client.whoami(), isCoded('TRANSPORT', null))
})

test('async methods reject, never throw synchronously', async (t) => {
  const { client } = await setup(t)
  let promise
  assert.doesNotThrow(() => {
    promise = client.createWorkspaceAccessToken('ok', { expiresIn: -1 })
  })
  await assert.rejects(promise, { code: 'VALIDATION' })
  assert.doesNotThrow(() => {
    promise = client.createPlatformAccessToken('Bad Name', { expiresIn: 'never' })
  })
  await assert.rejects(promise, { code: 'VALIDATION' })
})

test('a refused token says where it came from', async (t) => {
  const { emulator } = await setup(t)
  const stale = new Client({ server: emulator.url, token: 'not-a-working-token' })
  await assert.rejects(
    stale.whoami(),
    (e) => e.code === 'UNAUTHENTICATED' && /came from the token option/.test(e.message),
  )
})

test('hints and fields are named as Node names them', async (t) => {
  const { client } = await setup(t)
  await client.createWorkspaceAccessToken('twice')
  await assert.rejects(client.createWorkspaceAccessToken('twice'), (error) => {
    assert.equal(error.code, 'ALREADY_EXISTS')
    assert.ok(error.message.includes('use { resetToken: true } or resetWorkspaceAccessToken("twice")'), error.message)
    assert.ok(!error.message.includes('reset_token') && !error.message.includes('--reset-token'), error.message)
    assert.ok(error.message.endsWith(error.hint))
    return true
  })
  assert.throws(
    () => new Client({ server: 'http://127.0.0.1:1', token: 't', maxRetries: 1.5 }),
    (error) => {
      assert.equal(error.fieldErrors[0].field, 'maxRetries')
      assert.ok(error.message.startsWith('maxRetries must be a whole number'), error.message)
      return true
    },
  )
})

test("a rejection carries the caller's stack", async (t) => {
  const { client } = await setup(t)
  async function lookUpTheMissingToken() {
    return client.getWorkspaceAccessToken('missing')
  }
  await assert.rejects(lookUpTheMissingToken(), (error) => {
    assert.equal(error.code, 'NOT_FOUND')
    const [first, ...frames] = error.stack.split('\n')
    assert.equal(first, `WayfinderError: ${error.message}`)
    assert.ok(
      frames.some((f) => f.includes('lookUpTheMissingToken')),
      error.stack,
    )
    return true
  })
})

test('a misspelled option is a VALIDATION error naming it and the closest option, before any request', async (t) => {
  const { client, emulator } = await setup(t)
  const before = emulator.stats().total
  const misspelled = (key, closest) => (error) => {
    assert.equal(error.code, 'VALIDATION')
    assert.equal(error.fieldErrors[0].field, key)
    assert.ok(error.message.includes(`${key} is not an option here; did you mean ${closest}?`), error.message)
    return true
  }
  assert.throws(
    () => client.createWorkspaceAccessToken('x', { descripton: 'y' }),
    misspelled('descripton', 'description'),
  )
  assert.throws(() => client.listWorkspaceAccessTokens({ workspce: 'dev' }), misspelled('workspce', 'workspace'))
  assert.throws(() => client.inventory({ olderThen: '7d' }), misspelled('olderThen', 'olderThan'))
  assert.throws(
    () => new Client({ server: emulator.url, token: ADMIN, timeout: 5 }),
    misspelled('timeout', 'timeoutMs'),
  )
  assert.throws(
    () => client.whoami({ colour: 'blue' }),
    (error) => error.code === 'VALIDATION' && /the options are signal/.test(error.message),
  )
  assert.throws(
    () => client.whoami(5),
    (error) => error.code === 'VALIDATION' && error.message === 'options must be an object',
  )
  assert.equal(emulator.stats().total, before, 'nothing was sent')
  // null and undefined are no options at all.
  await client.whoami(null)
  // Every option it does know still works, undefined values included.
  await client.createWorkspaceAccessToken('spelled', { description: 'ok', workspace: undefined, dryRun: true })
})
