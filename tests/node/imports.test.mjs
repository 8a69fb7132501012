import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'

import native, { Client, Emulator, IssuedToken, VERSION, runCli } from 'wayfinder-tokens'

import { ROOT } from './support.mjs'

test('ESM and CommonJS give the same exports', () => {
  const cjs = createRequire(import.meta.url)('wayfinder-tokens')
  for (const [name, value] of Object.entries({ Client, Emulator, IssuedToken, VERSION, runCli })) {
    assert.equal(cjs[name], value, name)
    assert.equal(native[name], value, name)
  }
})

test('the ESM entry exports every name the CommonJS loader does', async () => {
  const loader = readFileSync(join(ROOT, 'bindings-node', 'index.js'), 'utf8')
  const names = [...loader.matchAll(/^module\.exports\.(\w+) = nativeBinding\./gm)].map((m) => m[1])
  assert.ok(names.includes('BatchReport') && names.includes('runCliStdio'), names.join(', '))
  const esm = await import('wayfinder-tokens')
  const cjs = createRequire(import.meta.url)('wayfinder-tokens')
  for (const name of names) assert.equal(esm[name], cjs[name], name)
})

test('the package version equals the workspace version', () => {
  const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8')
  const workspace = /\[workspace\.package\][^[]*?^version = "([^"]+)"/ms.exec(cargo)
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  assert.equal(pkg.version, workspace[1])
  assert.equal(VERSION, workspace[1])
})

test('every declaration, field and method in index.d.ts carries JSDoc', () => {
  const lines = readFileSync(join(ROOT, 'bindings-node', 'index.d.ts'), 'utf8').split('\n')
  const declaration =
    /^(export (declare )?(class|interface|function|const|type) |(readonly |static |get |set )?[A-Za-z_]\w*\??[(:<])/
  const undocumented = lines
    .map((line, i) => ({ line: line.trim(), before: (lines[i - 1] ?? '').trim() }))
    .filter(({ line, before }) => declaration.test(line) && !before.endsWith('*/'))
    .map(({ line }) => line)
  assert.deepEqual(undocumented, [])
})
