import assert from 'node:assert/strict'
import { test } from 'node:test'

import { IssuedToken } from 'wayfinder-tokens'

import { setup, vectors } from './support.mjs'

const RENDER = vectors('render.json')
const NAMES = vectors('names.json')

const FORMATS = {
  env: (t) => t.toEnv(),
  export: (t) => t.toExport(),
  shell: (t) => t.toShell(),
  config: (t) => t.toConfigYaml(),
  json: (t) => t.toJson(),
  yaml: (t) => t.toYaml(),
  token: (t) => `${t.token}\n`,
}

function issued(input) {
  const fields = { name: input.name, server: input.server }
  for (const key of ['token', 'workspace', 'description']) {
    if (input[key] !== null) fields[key] = input[key]
  }
  return new IssuedToken(fields)
}

for (const c of RENDER.issued) {
  test(`render: ${c.case}`, () => {
    const token = issued(c.input)
    assert.deepEqual(Object.keys(FORMATS).sort(), Object.keys(c.expected).sort())
    for (const [name, render] of Object.entries(FORMATS)) {
      assert.equal(render(token), c.expected[name], name)
    }
  })
}

for (const c of RENDER.issued_errors) {
  test(`render error: ${c.case}`, () => {
    assert.throws(
      () => FORMATS[c.format](issued(c.input)),
      (e) => e.code === 'VALIDATION' && e.fieldErrors[0].field === c.field,
    )
  })
}

test('name rules', async (t) => {
  const { client } = await setup(t)
  const calls = {
    name: (v) => client.createWorkspaceAccessToken(v, { dryRun: true }),
    workspace: (v) => client.listWorkspaceAccessTokens({ workspace: v }),
    description: (v) => client.createWorkspaceAccessToken('d', { description: v, dryRun: true }),
    role: (v) => client.assignWayfinderRole('missing-token', v),
  }
  for (const { rule, value, error } of NAMES.cases) {
    const outcome = await calls[rule](value).then(
      () => null,
      (e) => e,
    )
    if (error === null) {
      // Past the client's checks: the server knows no such token or workspace (404) or role (400).
      const fromServer = outcome?.code === 'NOT_FOUND' || (outcome?.code === 'VALIDATION' && outcome.status === 400)
      assert.ok(outcome === null || fromServer, `${rule} ${JSON.stringify(value)}: ${outcome}`)
    } else {
      assert.equal(outcome?.code, 'VALIDATION', `${rule} ${JSON.stringify(value)}`)
      assert.equal(outcome.fieldErrors[0].field, rule)
      assert.equal(outcome.status, null)
    }
  }
})
