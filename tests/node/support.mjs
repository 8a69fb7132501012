// Helpers shared by the node:test files.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Client, Emulator } from 'wayfinder-tokens'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
// The npx command, found the way npm finds it: from the package's `bin`.
export const BIN = join(ROOT, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin['wayfinder-tokens'])
export const ADMIN = 'admin-canary-9c1a'
/** The workspaces the suites use (an emulator has only those it is given). */
export const WORKSPACES = [
  'dev',
  'prod',
  'ops',
  'other',
  'mine',
  'latency',
  ...Array.from({ length: 10 }, (_, i) => `ws${i}`),
]
export const COLLECTION = '/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens'

export function vectors(name) {
  return JSON.parse(readFileSync(join(ROOT, 'tests', 'vectors', name), 'utf8'))
}

/** Starts an emulator and an admin client on it; `t.after` stops it. */
export async function setup(t, clientOptions = {}) {
  const emulator = await Emulator.start({
    adminToken: ADMIN,
    users: ['alice:wonderland@dev,prod'],
    workspaces: WORKSPACES,
  })
  t.after(() => emulator.stop())
  const client = new Client({
    server: emulator.url,
    token: ADMIN,
    workspace: 'dev',
    timeoutMs: 10_000,
    ...clientOptions,
  })
  return { emulator, client }
}

/** How many requests the emulator saw for "METHOD /path". */
export function attempts(emulator, key) {
  return emulator.stats().requests[key] ?? 0
}
