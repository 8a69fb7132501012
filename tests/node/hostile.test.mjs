import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { Client } from 'wayfinder-tokens'

import { ADMIN, ROOT, setup } from './support.mjs'

test('secrets a server echoes never reach an error message', async (t) => {
  const { client, emulator } = await setup(t, { maxRetries: 0 })
  const issued = await client.createWorkspaceAccessToken('echo')
  const pipeline = new Client({ server: emulator.url, token: issued.token })
  await pipeline.whoami()
  for (const status of [400, 401, 503]) {
    const body = { code: status, message: `refused ${ADMIN} and ${issued.token}`, detail: issued.token }
    emulator.injectFault({ pathPrefix: '/resources', status, body: JSON.stringify(body) })
    const error = await client.listWorkspaceAccessTokens().then(
      () => assert.fail('expected a rejection'),
      (e) => e,
    )
    const text = `${error.message} ${error.stack} ${JSON.stringify(error)}`
    assert.ok(!text.includes(ADMIN) && !text.includes(issued.token), text)
  }
})

test('toShell exports to child processes through eval', async (t) => {
  const { client } = await setup(t)
  const issued = await client.createWorkspaceAccessToken('evald')
  const script = `eval "$1"; exec sh -c 'printf %s "$WAYFINDER_TOKEN"'`
  const out = execFileSync('sh', ['-c', script, 'sh', issued.toShell()], { encoding: 'utf8' })
  assert.equal(out, issued.token)
})

test('exportToGithubActions masks on stdout and sets step outputs, the env only when asked', async (t) => {
  const { emulator } = await setup(t)
  const dir = mkdtempSync(join(tmpdir(), 'wft-gha-'))
  const outputFile = join(dir, 'github_output')
  const envFile = join(dir, 'github_env')
  writeFileSync(outputFile, '')
  writeFileSync(envFile, '')
  // In a child process, so the mask line does not mix with the runner's output.
  const child = `
    const { Client } = require(${JSON.stringify(ROOT)})
    const client = new Client({ server: process.argv[1], token: process.argv[2], workspace: 'dev' })
    client.createWorkspaceAccessToken('gha').then((issued) => {
      const outputs = issued.exportToGithubActions()
      const both = issued.exportToGithubActions({ env: true, prefix: 'CI_' })
      process.stderr.write(JSON.stringify({ outputs, both }))
    })`
  const env = { ...process.env, GITHUB_OUTPUT: outputFile, GITHUB_ENV: envFile }
  const out = execFileSync(process.execPath, ['-e', child, emulator.url, ADMIN], {
    env,
    encoding: 'utf8',
    stdio: 'pipe',
  })
  assert.match(out, /^::add-mask::ey[^\n]+\n::add-mask::ey[^\n]+\n$/)
  const token = out.split('\n')[0].slice('::add-mask::'.length)
  const outputs = readFileSync(outputFile, 'utf8')
  assert.ok(!outputs.includes('::'), outputs)
  const delimiter = outputs.split('\n')[0].split('<<')[1]
  assert.ok(outputs.includes(`WAYFINDER_TOKEN<<${delimiter}\n${token}\n${delimiter}\n`), outputs)
  const variables = readFileSync(envFile, 'utf8')
  assert.match(variables, /^CI_WAYFINDER_SERVER<</)
  assert.ok(variables.includes(`\n${token}\n`) && !/^WAYFINDER_TOKEN<</m.test(variables), variables)
})
