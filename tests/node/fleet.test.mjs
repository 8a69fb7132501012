// Fleet operations from Node: inventory, batch rotation whose report tells
// the truth about each failure, onProgress, and a signal that stops the batch.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { inspect } from 'node:util'

import { Client, Emulator, isWayfinderError, renderTable } from 'wayfinder-tokens'

import { ADMIN } from './support.mjs'

const COLLECTION = '/resources/accesstokens.appvia.io/v2beta1/workspaces'

async function fleet(t) {
  const workspaces = Array.from({ length: 4 }, (_, i) => `team${i}`)
  const emulator = await Emulator.start({ adminToken: ADMIN, workspaces })
  t.after(() => emulator.stop())
  const client = new Client({ server: emulator.url, token: ADMIN, maxRetries: 1 })
  for (const workspace of workspaces) {
    for (let i = 0; i < 5; i++) await client.createWorkspaceAccessToken(`tok${i}`, { workspace })
  }
  return { emulator, client }
}

test('inventory and rotate with progress, the report telling each failure apart', async (t) => {
  const { emulator, client } = await fleet(t)
  assert.deepEqual(await client.listWorkspaces(), ['team0', 'team1', 'team2', 'team3'])
  const inventory = await client.inventory()
  assert.equal(inventory.length, 20)
  assert.equal(inventory[0].generation, 1)
  assert.equal((await client.inventory({ workspaces: ['team1'], names: ['tok[01]'] })).length, 2)

  emulator.injectFault({ pathPrefix: `${COLLECTION}/team2/workspaceaccesstokens/tok1/token`, status: 500, times: 20 })
  emulator.injectFault({
    pathPrefix: `${COLLECTION}/team2/workspaceaccesstokens/tok2/token`,
    dropAnswer: true,
    times: 20,
  })
  const events = []
  const report = await client.rotateWorkspaceAccessTokens(inventory, {
    concurrency: 4,
    onProgress: (e) => events.push(e),
  })
  assert.equal(report.rotated.length, 18)
  assert.equal(report.ok, false)
  const failed = Object.fromEntries(report.failed.map((f) => [f.name, f]))
  assert.equal(failed.tok1.oldSecretValid, true)
  // The answer was lost on the way back: whether the reset ran is not guessed.
  assert.equal(failed.tok2.oldSecretValid, null)
  assert.ok(isWayfinderError(failed.tok1.error) && failed.tok1.error.code === 'SERVER')
  assert.match(failed.tok2.recovery, /resetWorkspaceAccessToken\("tok2", \{ workspace: "team2" \}\)/)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(events.length, 20)
  assert.deepEqual(
    events.map((e) => e.done).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i + 1),
  )
  const shown = JSON.stringify(report)
  assert.ok(report.rotated.every((i) => !shown.includes(i.token)))
  const dir = join(mkdtempSync(join(tmpdir(), 'wf-fleet-')), 'out')
  assert.equal(report.writeEnvDir(dir).length, 18)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.equal(report.toJsonl().trim().split('\n').length, 20)

  // console.log shows the report (never a secret), records and a table as in Python.
  const logged = inspect(report)
  assert.ok(!logged.startsWith('BatchReport {}') && logged.includes('tok1'), logged)
  assert.ok(report.rotated.every((i) => !logged.includes(i.token)))
  const records = report.toRecords()
  assert.equal(records.length, 20)
  const tok1 = records.find((r) => r.name === 'tok1' && r.workspace === 'team2')
  assert.deepEqual([tok1.status, tok1.oldSecretValid], ['failed', true])
  assert.match(tok1.error, /HTTP 500/)
  assert.ok(records.every((r) => !Object.values(r).some((v) => report.rotated.some((i) => i.token === v))))
  // An inventory entry's object is the API's object, not another wrapper around it.
  assert.equal(inventory[0].object.metadata.name, inventory[0].name)
  const table = renderTable(await client.listWorkspaceAccessTokens({ workspace: 'team0' }))
  assert.match(table, /NAME/)
  assert.equal(table.trim().split('\n').length, 6)
  assert.equal(renderTable([inventory[0].object], { headers: false }).trim().split('\n').length, 1)
})

test('a signal stops the batch and the report says what was not started', async (t) => {
  const { emulator, client } = await fleet(t)
  emulator.injectFault({ pathPrefix: `${COLLECTION}/team0/`, delayMs: 200, times: 100 })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  const targets = Array.from({ length: 5 }, (_, i) => ({ workspace: 'team0', name: `tok${i}` }))
  const outputDir = join(mkdtempSync(join(tmpdir(), 'wft-rotated-')), 'env')
  const report = await client.rotateWorkspaceAccessTokens(targets, {
    concurrency: 1,
    signal: controller.signal,
    outputDir,
  })
  assert.ok(report.notStarted.length > 0 && !report.ok)
  assert.equal(report.rotated.length + report.failed.length + report.notStarted.length, 5)
  // Every secret issued before the abort is already in its file, 0600, in a 0700 folder.
  assert.equal(statSync(outputDir).mode & 0o777, 0o700)
  assert.deepEqual(readdirSync(outputDir).sort(), report.rotated.map((r) => `team0.${r.name}.env`).sort())
  for (const issued of report.rotated) {
    const file = join(outputDir, `team0.${issued.name}.env`)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.match(readFileSync(file, 'utf8'), new RegExp(`WAYFINDER_TOKEN=${issued.token}\n`))
  }
  assert.deepEqual(report.undelivered, [])
  const dry = await client.rotateWorkspaceAccessTokens(targets, { dryRun: true })
  assert.equal(dry.wouldRotate.length, 5)
})

test('bad options are VALIDATION errors before any request', async (t) => {
  const { emulator, client } = await fleet(t)
  emulator.resetStats()
  const one = [{ workspace: 'team0', name: 'tok0' }]
  for (const concurrency of [0, 1.5, 2 ** 32]) {
    await assert.rejects(client.rotateWorkspaceAccessTokens(one, { concurrency }), { code: 'VALIDATION' })
  }
  await assert.rejects(client.rotateWorkspaceAccessTokens([{ workspace: 'team0', name: 'Bad_Name' }]), {
    code: 'VALIDATION',
  })
  await assert.rejects(client.inventory({ olderThan: 'soon' }), (e) => e.fieldErrors[0].field === 'olderThan')
  // An output folder writable by everyone is refused before any request.
  const open = mkdtempSync(join(tmpdir(), 'wft-open-'))
  chmodSync(open, 0o777)
  await assert.rejects(client.rotateWorkspaceAccessTokens(one, { outputDir: open }), { code: 'CONFIG' })
  assert.equal(emulator.stats().total, 0)
})

test('a throwing onProgress is reported as a warning and the batch goes on', async (t) => {
  const { client } = await fleet(t)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))
  const tokens = Array.from({ length: 5 }, (_, i) => ({ workspace: 'team3', name: `tok${i}` }))
  let calls = 0
  const report = await client.rotateWorkspaceAccessTokens(tokens, {
    onProgress: () => {
      calls += 1
      throw new Error('progress bar broke')
    },
  })
  assert.equal(report.rotated.length, 5)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(calls, 5)
  assert.ok(warnings.some((w) => /onProgress threw/.test(w.message) && /progress bar broke/.test(w.message)))
  // Nothing escaped into Node as an uncaught exception (a crash under its strict policy).
  assert.ok(!warnings.some((w) => w.code === 'DEP0168'), warnings.map((w) => w.message).join('; '))
})
