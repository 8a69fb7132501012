import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Client, IssuedToken } from 'wayfinder-tokens'

import { ADMIN, setup } from './support.mjs'

test('workspace tokens: create, get, list, roles, reset, delete', async (t) => {
  const { emulator, client } = await setup(t)
  const issued = await client.createWorkspaceAccessToken('ci-deploy', {
    description: 'My deployment token',
    expiresIn: '30d',
  })
  assert.ok(issued instanceof IssuedToken)
  assert.equal(issued.name, 'ci-deploy')
  assert.equal(issued.workspace, 'dev')
  assert.equal(issued.server, emulator.url)
  assert.equal(issued.description, 'My deployment token')
  assert.match(issued.token, /^ey/)
  assert.equal(typeof issued.expires, 'number')
  assert.equal(issued.dryRun, false)
  assert.equal(issued.resource.workspace, 'dev')

  const pipeline = new Client({ server: emulator.url, token: issued.token })
  const me = await pipeline.whoami()
  assert.equal(me.subjectKind, 'WorkspaceAccessToken')
  assert.deepEqual(me.workspaces, ['dev'])

  const got = await client.getWorkspaceAccessToken('ci-deploy')
  assert.equal(got.generation, 1)
  assert.equal(got.kind, 'WorkspaceAccessToken')
  assert.equal(got.object.metadata.namespace, 'ws-dev')
  assert.deepEqual(
    (await client.listWorkspaceAccessTokens()).map((x) => x.name),
    ['ci-deploy'],
  )
  assert.deepEqual(await client.listWorkspaceAccessTokens({ workspace: 'prod' }), [])

  let roles = await client.assignAccessRole('ci-deploy', 'cluster.deployer', { cluster: 'c1', namespace: 'apps' })
  assert.deepEqual(roles.accessRoles, [{ role: 'cluster.deployer', cluster: 'c1', namespace: 'apps' }])
  roles = await client.assignWayfinderRole('ci-deploy', 'workspace.accesstokenmanager')
  assert.deepEqual(roles.wayfinderRoles, ['workspace.accesstokenmanager'])

  const reset = await client.resetWorkspaceAccessToken('ci-deploy')
  assert.notEqual(reset.token, issued.token)
  await assert.rejects(pipeline.whoami(), { code: 'UNAUTHENTICATED', status: 401 })
  roles = await client.getWorkspaceAccessTokenRoles('ci-deploy')
  assert.equal(roles.accessRoles.length, 1, 'roles survive a reset')

  const again = await client.createWorkspaceAccessToken('ci-deploy', { resetToken: true })
  assert.equal(again.description, 'My deployment token')
  const deleted = await client.deleteWorkspaceAccessToken('ci-deploy')
  assert.equal(deleted.name, 'ci-deploy')
  await assert.rejects(client.getWorkspaceAccessToken('ci-deploy'), { code: 'NOT_FOUND', status: 404 })
})

test('platform tokens', async (t) => {
  const { client } = await setup(t)
  const issued = await client.createPlatformAccessToken('platform-ci', { description: 'p' })
  assert.equal(issued.workspace, null)
  await client.assignPlatformWayfinderRole('platform-ci', 'platform.accesstokenmanager')
  await client.assignPlatformAccessRole('platform-ci', 'cluster.viewer', { cluster: 'c1' })
  const roles = await client.getPlatformAccessTokenRoles('platform-ci')
  assert.equal(roles.accessRoles[0].cluster, 'c1')
  const reset = await client.resetPlatformAccessToken('platform-ci')
  assert.notEqual(reset.token, issued.token)
  assert.equal((await client.getPlatformAccessToken('platform-ci')).generation, 2)
  assert.equal((await client.listPlatformAccessTokens()).length, 1)
  await client.deletePlatformAccessToken('platform-ci')
  assert.deepEqual(await client.listPlatformAccessTokens(), [])
})

test('dry run creates nothing and has no secret', async (t) => {
  const { client, emulator } = await setup(t)
  const dry = await client.createWorkspaceAccessToken('dry', { dryRun: true })
  assert.equal(dry.dryRun, true)
  assert.equal(dry.token, null)
  assert.equal(dry.resource.name, 'dry')
  assert.deepEqual(await client.listWorkspaceAccessTokens(), [])
  assert.throws(() => dry.toEnv(), { code: 'VALIDATION' })
  assert.equal(
    Object.keys(emulator.stats().requests).some((k) => k.endsWith('/token')),
    false,
  )
})

test('500 concurrent creates with Promise.all', async (t) => {
  const { client, emulator } = await setup(t)
  const issued = await Promise.all(
    Array.from({ length: 500 }, (_, i) => client.createWorkspaceAccessToken(`t${i}`, { workspace: `ws${i % 10}` })),
  )
  assert.equal(new Set(issued.map((x) => x.token)).size, 500)
  assert.equal(emulator.stats().requests['GET /apiinfo'], 1)
})

test('fromEnv and config files', async (t) => {
  const { mkdtempSync, statSync, writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const { client, emulator } = await setup(t)
  const dir = mkdtempSync(join(tmpdir(), 'wf-node-'))
  const issued = await client.createWorkspaceAccessToken('saved')
  const standalone = join(dir, 'saved.config')
  await issued.writeConfig(standalone)
  assert.equal(statSync(standalone).mode & 0o777, 0o600)
  const fromFile = Client.fromEnv({ configPath: standalone })
  assert.equal(fromFile.workspace, 'dev')
  assert.equal((await fromFile.whoami()).subjectKind, 'WorkspaceAccessToken')

  const shared = join(dir, 'config')
  writeFileSync(shared, 'current-profile: other\nprofiles: {other: {server: s, user: u}}\nkeep: me\n')
  assert.equal(await issued.saveProfile({ configPath: shared, profile: 'ci' }), shared)
  assert.equal(issued.saveProfileSync({ configPath: shared, profile: 'ci2' }), shared)
  issued.writeConfigSync(join(dir, 'sync.config'))
  assert.equal(statSync(join(dir, 'sync.config')).mode & 0o777, 0o600)
  const viaProfile = new Client({ configPath: shared, profile: 'ci' })
  assert.equal((await viaProfile.whoami()).workspaces[0], 'dev')
  assert.equal(new Client({ server: emulator.url, token: ADMIN }).workspace, null)
})
