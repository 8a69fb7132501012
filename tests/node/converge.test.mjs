// Tokens as code from Node: loadSpec with every problem located (the shared cases), plan, apply
// and check as Promises against the emulator and its GitHub routes, a second apply that writes
// nothing, a stale plan refused.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'

import { Client, Emulator, Plan, isWayfinderError, loadSpec, parseSpec, specSchema } from 'wayfinder-tokens'

import { ADMIN } from './support.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CASES = JSON.parse(readFileSync(join(ROOT, 'tests', 'vectors', 'token_specs.json'), 'utf8')).cases

test('specs read as the shared cases say, every problem located', () => {
  for (const c of CASES) {
    if (c.errors.length === 0) {
      assert.equal(parseSpec(c.yaml, 'tokens.yaml').tokens.length, c.tokens.length, c.name)
      continue
    }
    assert.throws(
      () => parseSpec(c.yaml, 'tokens.yaml'),
      (e) => {
        assert.ok(isWayfinderError(e) && e.code === 'VALIDATION', c.name)
        const got = e.fieldErrors.map((f) => [f.field, f.code, f.message.split(' ')[0]])
        const want = c.errors.map((x) => [x.field, x.code, `tokens.yaml:${x.line}:${x.column}:`])
        assert.deepEqual(got, want, c.name)
        return true
      },
    )
  }
  assert.equal(JSON.parse(specSchema()).properties.apiVersion.const, 'wayfinder-tokens/v1')
  assert.deepEqual(loadSpec(join(ROOT, 'examples', 'tokens.yaml')).tokens, [
    'payments/app-deploy',
    'payments/reporting',
    'platform/fleet-bot',
  ])
})

async function setup(t) {
  const emulator = await Emulator.start({ adminToken: ADMIN, workspaces: ['dev'] })
  t.after(() => emulator.stop())
  const dir = mkdtempSync(join(tmpdir(), 'wft-converge-'))
  const saved = { ...process.env }
  Object.assign(process.env, {
    GITHUB_API_URL: `${emulator.url}/github`,
    GITHUB_TOKEN: ADMIN,
    XDG_STATE_HOME: join(dir, 'state'),
  })
  t.after(() => {
    for (const key of ['GITHUB_API_URL', 'GITHUB_TOKEN', 'XDG_STATE_HOME']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })
  const spec = join(dir, 'tokens.yaml')
  writeFileSync(
    spec,
    [
      'apiVersion: wayfinder-tokens/v1',
      'tokens:',
      '  - name: app',
      '    workspace: dev',
      '    roles: { wayfinder: [workspace.viewer] }',
      '    deliver: [github:acme/app, "file:' + join(dir, 'app.env') + '"]',
      '    rotate: { maxAge: 30d }',
      '',
    ].join('\n'),
  )
  const client = new Client({ server: emulator.url, token: ADMIN, workspace: 'dev' })
  return { emulator, client, spec, dir }
}

test('plan, apply, and nothing written the second time', async (t) => {
  const { emulator, client, spec, dir } = await setup(t)
  const plan = await client.plan(loadSpec(spec))
  assert.ok(plan instanceof Plan && plan.hasChanges)
  assert.deepEqual(
    plan.changes.map((c) => c.action),
    ['create', 'grant', 'deliver'],
  )
  assert.match(inspect(plan), /changes/)
  assert.equal(plan.toRecords()[0].subject, 'dev/app')
  assert.match(plan.renderTable(), /^\+ create dev\/app: a new token/)
  const report = await client.apply(plan)
  assert.ok(report.ok, report.lines.join('\n'))
  assert.equal(report.deliveries[0].ok, true)
  const secret = readFileSync(join(dir, 'app.env'), 'utf8')
  emulator.resetStats()
  const again = await client.apply(spec)
  assert.deepEqual(again.applied, [])
  const writes = Object.keys(emulator.stats().requests).filter((k) => !k.startsWith('GET '))
  assert.deepEqual(writes, [])
  assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), secret)
  const due = await client.check(spec, { within: '31d' })
  assert.deepEqual(
    due.map((d) => [d.token, d.due]),
    [['app', true]],
  )
  const rotation = await client.plan(spec, { rotate: ['app'] })
  assert.deepEqual(rotation.changes[0].reasons, [{ reason: 'requested' }])
})

test('a stale plan and bad input reject with typed errors', async (t) => {
  const { client, spec } = await setup(t)
  const plan = await client.plan(spec)
  await client.createWorkspaceAccessToken('app')
  await assert.rejects(client.apply(plan), (e) => e.code === 'CONFIG' && /out of date/.test(e.message))
  await assert.rejects(client.plan(spec, { rotate: ['nope'] }), (e) => e.code === 'VALIDATION')
  // Caught as the call is made, before any Promise, as every option key is.
  assert.throws(
    () => client.plan(spec, { rotat: ['app'] }),
    (e) => e.code === 'VALIDATION' && /did you mean rotate/.test(e.message),
  )
  assert.throws(
    () => client.plan(42),
    (e) => e.code === 'VALIDATION',
  )
  await assert.rejects(client.check(spec, { within: 'soon' }), (e) => e.code === 'VALIDATION')
})
