import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { ADMIN, BIN, setup } from './support.mjs'

const run = promisify(execFile)

async function wf(args, env) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env })
    return { code: 0, stdout, stderr }
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

test('the bin runs the core CLI with its output and exit codes', async (t) => {
  const { emulator } = await setup(t)
  const env = {
    PATH: process.env.PATH,
    WAYFINDER_SERVER: emulator.url,
    WAYFINDER_TOKEN: ADMIN,
    WAYFINDER_WORKSPACE: 'dev',
    WAYFINDER_CONFIG: join(mkdtempSync(join(tmpdir(), 'wf-cli-')), 'config'),
  }
  let out = await wf(['create', 'workspaceaccesstoken', 'ci-deploy', '-d', 'My deployment token'], env)
  assert.equal(out.code, 0, out.stderr)
  assert.match(out.stdout, /^# Workspace access token "ci-deploy" for workspace "dev"/)
  assert.match(out.stdout, /WAYFINDER_WORKSPACE = dev\n/)
  out = await wf(['create', 'workspaceaccesstoken', 'b', '-o', 'export'], env)
  assert.deepEqual(
    out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0]),
    ['WAYFINDER_SERVER', 'WAYFINDER_TOKEN', 'WAYFINDER_WORKSPACE'],
  )
  out = await wf(['list', 'workspaceaccesstokens'], env)
  assert.match(out.stdout, /^NAME\s+WORKSPACE\s+DESCRIPTION\s+CREATED\n/)
  out = await wf(['create', 'workspaceaccesstoken', 'b'], env)
  assert.equal(out.code, 1)
  assert.match(out.stderr, /^error: /)
  out = await wf(['create', 'workspaceaccesstoken', 'Bad_Name'], env)
  assert.equal(out.code, 2)
  out = await wf(['create', 'workspaceaccesstoken', 'dbg', '--show-token', '--debug'], env)
  assert.equal(out.code, 0, out.stderr)
  const secret = out.stdout.trim()
  assert.match(out.stderr, /DEBUG wayfinder_tokens/)
  assert.ok(!out.stderr.includes(secret) && !out.stderr.includes(ADMIN))
})

test('usage lines name the command as npx runs it', async () => {
  const env = { PATH: process.env.PATH }
  const tokens = await wf(['create', '--help'], env)
  assert.match(tokens.stdout, /Usage: wayfinder-tokens create \[OPTIONS\]/)
  const emulator = await wf(['emulator', '--help'], env)
  assert.match(emulator.stdout, /Usage: wayfinder-tokens emulator \[OPTIONS\]/)
})
