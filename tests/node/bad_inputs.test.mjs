// tests/vectors/bad_inputs.json: every bad input is a coded error naming its
// field; apart from the server answers, none reaches the network.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { Client, IssuedToken, runCli } from 'wayfinder-tokens'

import { ADMIN, setup, vectors } from './support.mjs'

const CASES = vectors('bad_inputs.json').cases
const camel = (key) => key.replace(/_(\w)/g, (_, c) => c.toUpperCase())

function matches(c) {
  return (error) => {
    assert.equal(error.code, c.error, c.case)
    // The table names fields as Rust and Python do; Node names options in camelCase.
    if (c.field) assert.equal(error.fieldErrors[0]?.field, camel(c.field), c.case)
    if ('status' in c) assert.equal(error.status, c.status, c.case)
    if (c.message_contains) assert.ok(error.message.includes(c.message_contains), c.case)
    // The server's own field names and words, never respelled.
    if (c.server_field_errors) assert.deepEqual(error.fieldErrors, c.server_field_errors, c.case)
    return true
  }
}

test('the table is big enough', () => assert.ok(CASES.length >= 40))

test('client-side bad inputs never reach the network', async (t) => {
  const { client, emulator } = await setup(t)
  const dir = mkdtempSync(join(tmpdir(), 'wf-bad-'))
  const config = join(dir, 'admin')
  await new IssuedToken({ name: 'admin', server: emulator.url, token: ADMIN, workspace: 'dev' }).writeConfig(config)
  for (const c of CASES.filter((c) => c.kind !== 'answer')) {
    const a = c.args ?? {}
    if (c.kind === 'create') {
      const options = {}
      for (const key of ['workspace', 'description', 'expires_in']) if (key in a) options[camel(key)] = a[key]
      await assert.rejects(client.createWorkspaceAccessToken(a.name, options), matches(c))
    } else if (c.kind === 'assign_access_role') {
      const options = {}
      for (const key of ['cluster', 'namespace']) if (key in a) options[key] = a[key]
      await assert.rejects(client.assignAccessRole(a.token, a.role, options), matches(c))
    } else if (c.kind === 'client') {
      const options = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [camel(k), v]))
      assert.throws(() => new Client(options), matches(c))
    } else if (c.kind === 'config') {
      const path = join(dir, `config-${c.case.replaceAll(' ', '-')}`)
      writeFileSync(path, c.file)
      assert.throws(() => new Client({ configPath: path }), matches(c))
    } else if (c.kind === 'cli') {
      const out = await runCli(c.argv.length ? [...c.argv, '--config', config] : [])
      assert.equal(out.code, c.exit, c.case)
      assert.ok(out.stderr.length > 0)
    } else {
      assert.fail(`unknown kind ${c.kind}`)
    }
  }
  assert.equal(emulator.stats().total, 0, 'a bad input reached the network')
})

test('bad server answers are clear errors', async (t) => {
  const { emulator } = await setup(t)
  const client = new Client({ server: emulator.url, token: ADMIN, workspace: 'dev', maxRetries: 1 })
  await client.whoami()
  for (const c of CASES.filter((c) => c.kind === 'answer')) {
    emulator.clearFaults()
    const fault = Object.fromEntries(Object.entries(c.fault).map(([k, v]) => [camel(k), v]))
    emulator.injectFault({ pathPrefix: '/resources', ...fault })
    await assert.rejects(client.listWorkspaceAccessTokens(), matches(c))
  }
})
