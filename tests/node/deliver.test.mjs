// Delivery from Node: the `deliver` option on create, reset and rotate, `issued.deliver()`,
// `deliverPending()`, against the emulator's GitHub routes and a real OpenBao server; every
// destination checked before any reset, and nothing lost when one fails.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Client, Emulator, destinations, isWayfinderError } from 'wayfinder-tokens'

import { ADMIN } from './support.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BAO_TOKEN = 'bao-root-canary-91d4'
let bao
let vaultAddr

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// One OpenBao dev server for this file.
before(async () => {
  const binary = join(ROOT, '.venv', 'bin', 'bao')
  assert.ok(existsSync(binary), 'OpenBao is not installed: run `make install`')
  const port = await freePort()
  vaultAddr = `http://127.0.0.1:${port}`
  bao = spawn(binary, ['server', '-dev', `-dev-root-token-id=${BAO_TOKEN}`, `-dev-listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
  })
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${vaultAddr}/v1/sys/health`)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error('OpenBao did not start')
})
after(() => bao?.kill())

async function setup(t) {
  const emulator = await Emulator.start({ adminToken: ADMIN, workspaces: ['dev'] })
  t.after(() => emulator.stop())
  const state = mkdtempSync(join(tmpdir(), 'wft-deliver-'))
  const saved = { ...process.env }
  Object.assign(process.env, {
    GITHUB_API_URL: `${emulator.url}/github`,
    GITHUB_TOKEN: ADMIN,
    VAULT_ADDR: vaultAddr,
    VAULT_TOKEN: BAO_TOKEN,
    XDG_STATE_HOME: state,
  })
  t.after(() => {
    for (const key of ['GITHUB_API_URL', 'GITHUB_TOKEN', 'VAULT_ADDR', 'VAULT_TOKEN', 'XDG_STATE_HOME']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })
  const client = new Client({ server: emulator.url, token: ADMIN, workspace: 'dev' })
  return { emulator, client, state }
}

async function github(emulator) {
  const answer = await fetch(`${emulator.url}/emulator/github`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return answer.json()
}

async function vaultData(path) {
  const answer = await fetch(`${vaultAddr}/v1/secret/data/${path}`, { headers: { 'x-vault-token': BAO_TOKEN } })
  return (await answer.json()).data.data
}

async function works(emulator, secret) {
  const who = await new Client({ server: emulator.url, token: secret }).whoami()
  assert.equal(who.subjectKind, 'WorkspaceAccessToken')
}

test('destinations are their SPEC strings', () => {
  assert.equal(
    destinations.github('acme/app', { environment: 'prod', prefix: 'PROD_' }),
    'github:acme/app@prod?prefix=PROD_',
  )
  assert.equal(
    destinations.githubOrg('acme', { visibility: 'selected', repositories: ['a', 'b'] }),
    'github-org:acme?visibility=selected&repositories=a,b',
  )
  assert.equal(destinations.vault('secret/ci/{name}'), 'vault:secret/ci/{name}')
  assert.equal(destinations.aws('ci/app', { region: 'eu-west-1' }), 'aws:ci/app?region=eu-west-1')
  assert.equal(destinations.command(['gh', 'secret', 'set', 'A B']), "cmd:gh secret set 'A B'")
  assert.equal(destinations.file('out.yaml', { format: 'kubernetes' }), 'file:out.yaml?format=kubernetes')
})

test('create delivers to GitHub, Vault and a file, and says where', async (t) => {
  const { emulator, client, state } = await setup(t)
  const issued = await client.createWorkspaceAccessToken('node-app', {
    deliver: [
      'github:acme/app@prod',
      `vault:secret/node/${process.pid}/{workspace}/{name}`,
      `file:${state}/{name}.env`,
    ],
  })
  const report = issued.delivery
  assert.equal(report.ok, true, JSON.stringify(report))
  assert.deepEqual(report.delivered, [
    'github:acme/app@prod',
    `vault:secret/node/${process.pid}/dev/node-app`,
    `file:${state}/node-app.env`,
  ])
  assert.equal(report.recovery, undefined)
  const secret = issued.token
  assert.equal((await github(emulator)).secrets['repos/acme/app/environments/prod/WAYFINDER_TOKEN'].value, secret)
  assert.equal((await vaultData(`node/${process.pid}/dev/node-app`)).WAYFINDER_TOKEN, secret)
  assert.equal(statSync(join(state, 'node-app.env')).mode & 0o777, 0o600)
  assert.ok(!JSON.stringify(report).includes(secret))
  await works(emulator, secret)

  const again = await issued.deliver('github:acme/other')
  assert.equal(again.ok, true)
  const reset = await client.resetWorkspaceAccessToken('node-app', { deliver: 'github:acme/app' })
  assert.equal(reset.delivery.ok, true)
  assert.equal((await github(emulator)).secrets['repos/acme/app/actions/WAYFINDER_TOKEN'].value, reset.token)
  assert.ok(reset.toKubernetesSecret('APP_').includes(`APP_WAYFINDER_TOKEN: ${reset.token}`))
})

test('bad destinations and failing preflights reject before anything is issued', async (t) => {
  const { emulator, client } = await setup(t)
  const old = (await client.createWorkspaceAccessToken('kept')).token
  for (const bad of ['s3:bucket', ['vault:secret/../x'], 42, [{}]]) {
    await assert.rejects(client.resetWorkspaceAccessToken('kept', { deliver: bad }), (e) => {
      assert.ok(isWayfinderError(e) && e.code === 'VALIDATION', String(e))
      assert.equal(e.fieldErrors[0].field, 'deliver')
      return true
    })
  }
  delete process.env.GITHUB_TOKEN
  await assert.rejects(client.resetWorkspaceAccessToken('kept', { deliver: 'github:acme/app' }), (e) => {
    assert.equal(e.code, 'CONFIG')
    assert.match(e.message, /deliver to github:acme\/app: no GitHub credentials/)
    return true
  })
  assert.throws(() => client.createWorkspaceAccessToken('typo', { delivr: 'github:acme/app' }), /did you mean deliver/)
  await works(emulator, old)
})

test('a failed destination keeps the secret until deliverPending', async (t) => {
  const { emulator, client } = await setup(t)
  emulator.injectFault({
    pathPrefix: '/github/repos/acme/down/actions/secrets/WAYFINDER_TOKEN',
    status: 503,
    times: 100,
  })
  const issued = await client.createWorkspaceAccessToken('half', { deliver: ['github:acme/up', 'github:acme/down'] })
  const report = issued.delivery
  assert.equal(report.ok, false)
  assert.deepEqual(report.delivered, ['github:acme/up'])
  assert.equal(report.failed[0].destination, 'github:acme/down')
  assert.equal(report.failed[0].code, 'SERVER')
  assert.equal(statSync(report.recovery).mode & 0o777, 0o600)
  const waiting = await client.deliverPending({ listOnly: true })
  assert.deepEqual(
    waiting.map((w) => [w.name, w.waitingFor]),
    [['half', ['github:acme/down']]],
  )
  emulator.clearFaults()
  const [done] = await client.deliverPending()
  assert.equal(done.report.ok, true)
  assert.deepEqual(await client.deliverPending({ listOnly: true }), [])
  assert.equal((await github(emulator)).secrets['repos/acme/down/actions/WAYFINDER_TOKEN'].value, issued.token)
})

test('rotate delivers each token where a SPEC, a mapping or a function says', async (t) => {
  const { emulator, client } = await setup(t)
  for (const name of ['a', 'b', 'c']) await client.createWorkspaceAccessToken(name)
  const tokens = ['a', 'b', 'c'].map((name) => ({ workspace: 'dev', name }))
  const report = await client.rotateWorkspaceAccessTokens(tokens, { deliver: 'github:acme/{name}' })
  assert.equal(report.ok, true)
  assert.deepEqual(report.deliveries.map((d) => d.name).sort(), ['a', 'b', 'c'])
  const state = await github(emulator)
  for (const issued of report.rotated) {
    assert.equal(state.secrets[`repos/acme/${issued.name}/actions/WAYFINDER_TOKEN`].value, issued.token)
  }
  const chosen = await client.rotateWorkspaceAccessTokens(tokens, {
    deliver: (workspace, name) => (name === 'c' ? [] : [`vault:secret/node/rot${process.pid}/${workspace}/${name}`]),
  })
  assert.deepEqual(chosen.deliveries.map((d) => d.name).sort(), ['a', 'b'])
  const mapped = await client.rotateWorkspaceAccessTokens(tokens, { deliver: { 'dev/b': 'github:acme/mapped' } })
  assert.deepEqual(
    mapped.deliveries.map((d) => d.delivered),
    [['github:acme/mapped']],
  )
  await assert.rejects(
    client.rotateWorkspaceAccessTokens(tokens, { deliver: () => 'vault:secret/{nope}' }),
    (e) => e.code === 'VALIDATION',
  )
})

test('create delivers to AWS Secrets Manager (moto)', async (t) => {
  const { emulator, client, state } = await setup(t)
  const binary = join(ROOT, '.venv', 'bin', 'moto_server')
  assert.ok(existsSync(binary), "moto's server is not installed: run `make install`")
  const port = await freePort()
  const moto = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  t.after(() => moto.kill())
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const saved = { ...process.env }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'aws-secret-canary-node',
    AWS_REGION: 'us-east-1',
  })
  t.after(() => {
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })
  const issued = await client.createWorkspaceAccessToken('node-aws', { deliver: `aws:ci/${process.pid}/{name}` })
  assert.equal(issued.delivery.ok, true, JSON.stringify(issued.delivery))
  assert.match(issued.delivery.verified[0].detail, /is AWSCURRENT$/)
  assert.ok(!JSON.stringify(issued.delivery).includes('aws-secret-canary-node'))
  assert.ok(state)
  await works(emulator, issued.token)
})
