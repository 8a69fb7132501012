// How Node programs really run the package: long-lived AbortSignals, an
// event loop that must not stall on a file lock, errors that behave like
// Node's own, and the emulator as a command.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { getEventListeners } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { inspect } from 'node:util'

import { Client, Emulator, IssuedToken, WayfinderError, isWayfinderError } from 'wayfinder-tokens'

import { ADMIN, BIN, COLLECTION, setup } from './support.mjs'

test('a shared AbortSignal keeps no listener once its calls settle', async (t) => {
  const { client, emulator } = await setup(t)
  const warnings = []
  const onWarning = (w) => warnings.push(w.name)
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))
  const controller = new AbortController()
  const { signal } = controller
  for (let i = 0; i < 30; i++) {
    await client.whoami({ signal })
  }
  await client.getWorkspaceAccessToken('missing', { signal }).catch(() => {})
  await Promise.all(Array.from({ length: 8 }, () => client.whoami({ signal })))
  assert.equal(getEventListeners(signal, 'abort').length, 0)
  // An aborted call also takes its listener away.
  emulator.injectFault({ pathPrefix: COLLECTION, delayMs: 5000 })
  const pending = client.getWorkspaceAccessToken('slow', { signal })
  assert.equal(getEventListeners(signal, 'abort').length, 1)
  controller.abort()
  await assert.rejects(pending, { name: 'AbortError', code: 'ABORT_ERR' })
  assert.equal(getEventListeners(signal, 'abort').length, 0)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(warnings, [])
})

test('saveProfile and writeConfig wait for the lock off the event loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-lock-'))
  const config = join(dir, 'config')
  writeFileSync(config, 'profiles: {}\n')
  const issued = new IssuedToken({ name: 'ci', server: 'https://wf.example.com', token: 'secret-0123456789' })
  // Another process holds the config's lock for a second.
  const holder = spawn('flock', [`${config}.lock`, '-c', 'echo locked; sleep 1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const released = new Promise((resolve) => holder.once('exit', resolve))
  await new Promise((resolve) => holder.stdout.once('data', resolve))
  let ticks = 0
  const timer = setInterval(() => ticks++, 20)
  const saving = issued.saveProfile({ configPath: config, profile: 'ci' })
  assert.ok(saving instanceof Promise)
  assert.equal(ticks, 0)
  assert.equal(await saving, config)
  clearInterval(timer)
  // The loop kept turning while the call waited about a second for the lock.
  assert.ok(ticks >= 10, `only ${ticks} timer ticks while waiting for the lock`)
  await released
  const written = issued.writeConfig(join(dir, 'standalone'))
  assert.ok(written instanceof Promise)
  await written
})

test('errors are WayfinderError instances in Node names', async (t) => {
  const { client } = await setup(t)
  await client.createWorkspaceAccessToken('taken')
  const exists = await client.createWorkspaceAccessToken('taken').catch((e) => e)
  assert.ok(exists instanceof WayfinderError)
  assert.ok(exists instanceof Error)
  assert.ok(isWayfinderError(exists))
  assert.equal(exists.name, 'WayfinderError')
  assert.equal(exists.code, 'ALREADY_EXISTS')
  assert.equal(exists.status, 409)
  assert.match(exists.message, /resetToken: true/)
  assert.match(exists.message, /resetWorkspaceAccessToken\("taken"\)/)
  assert.equal(exists.hint, exists.message.slice(exists.message.length - exists.hint.length))
  assert.doesNotMatch(exists.message, /reset_token|True|reset_workspace/)
  assert.match(exists.stack, /^WayfinderError: /)
  assert.match(inspect(exists), /code: 'ALREADY_EXISTS'/)

  const badName = await client.createWorkspaceAccessToken('Bad_Name').catch((e) => e)
  assert.ok(badName instanceof WayfinderError)
  assert.deepEqual(
    badName.fieldErrors.map((f) => [f.field, f.code]),
    [['name', 'pattern']],
  )
  const bad = await client.createWorkspaceAccessToken('ok', { expiresIn: 'soon' }).catch((e) => e)
  assert.deepEqual(
    bad.fieldErrors.map((f) => [f.field, f.code]),
    [['expiresIn', 'invalidValue']],
  )
  assert.doesNotMatch(bad.message, /expires_in/)

  assert.equal(isWayfinderError(new Error('x')), false)
  assert.equal(isWayfinderError(null), false)
  assert.equal(isWayfinderError({ code: 'VALIDATION' }), false)
  const own = new WayfinderError('made by hand', { code: 'CONFIG' })
  assert.equal(own.code, 'CONFIG')
  assert.equal(own.status, null)
  assert.ok(isWayfinderError(own))
})

test('out-of-range numbers are VALIDATION errors naming the option', () => {
  const base = { server: 'http://127.0.0.1:1', token: ADMIN }
  for (const maxRetries of [2 ** 32, 1.5, -1, 21, Number.NaN, Infinity]) {
    assert.throws(
      () => new Client({ ...base, maxRetries }),
      (e) => isWayfinderError(e) && e.code === 'VALIDATION' && e.fieldErrors[0].field === 'maxRetries',
      String(maxRetries),
    )
  }
  for (const timeoutMs of [0, -5, 1.5, 2 ** 40]) {
    assert.throws(
      () => new Client({ ...base, timeoutMs }),
      (e) => e.code === 'VALIDATION' && e.fieldErrors[0].field === 'timeoutMs' && !/\btimeout\b/.test(e.message),
      String(timeoutMs),
    )
  }
  assert.throws(
    () => new Client({ server: 'http://wf.example.com', token: 't' }),
    (e) => /allowInsecureHttp/.test(e.message) && !/allow_insecure_http/.test(e.message),
  )
  new Client({ ...base, maxRetries: 20, timeoutMs: 1 })
})

/** Runs `npx wayfinder-tokens emulator ARGS` and resolves with its first stdout line. */
function startEmulatorCommand(args) {
  const child = spawn(process.execPath, [BIN, 'emulator', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const firstLine = new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(out.split('\n')[0])
    })
    child.once('exit', () => reject(new Error(`exited before printing: ${out}`)))
  })
  child.stderr.resume()
  return { child, exited, firstLine }
}

test('npx wayfinder-tokens emulator serves until SIGTERM, like the binary', async () => {
  const { child, exited, firstLine } = startEmulatorCommand(['--quiet', '--admin-token', ADMIN, '--user', 'bob:pw@dev'])
  const line = await firstLine
  const match = /^listening on (http:\/\/127\.0\.0\.1:\d+) admin-token=(\S+)$/.exec(line)
  assert.ok(match, line)
  assert.equal(match[2], ADMIN)
  const client = new Client({ server: match[1], token: ADMIN, workspace: 'dev' })
  const issued = await client.createWorkspaceAccessToken('via-command')
  assert.equal(issued.name, 'via-command')
  child.kill('SIGTERM')
  assert.deepEqual(await exited, { code: 0, signal: null })
  await assert.rejects(new Client({ server: match[1], token: ADMIN, maxRetries: 0 }).whoami(), { code: 'TRANSPORT' })
})

test('the emulator command answers --help, --version and bad flags like the binary', async () => {
  assert.equal(Emulator.usage(['--quiet']), null)
  const help = Emulator.usage(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.text, /--listen/)
  assert.equal(Emulator.usage(['--version']).code, 0)
  assert.equal(Emulator.usage(['--bogus']).code, 2)
  const bogus = startEmulatorCommand(['--bogus'])
  bogus.firstLine.catch(() => {})
  assert.equal((await bogus.exited).code, 2)
  const run = startEmulatorCommand(['--help'])
  run.firstLine.catch(() => {})
  assert.equal((await run.exited).code, 0)
})
