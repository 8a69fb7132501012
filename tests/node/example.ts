// Compiled by `tsc --strict --noEmit` (make test): the public types in use.
import {
  Client,
  Emulator,
  IssuedToken,
  WayfinderError,
  isWayfinderError,
  type AccessToken,
  type ErrorCode,
} from 'wayfinder-tokens'

async function rotate(client: Client, names: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  const secrets = new Map<string, string>()
  for (const name of names) {
    const issued: IssuedToken = await client.createWorkspaceAccessToken(name, {
      description: 'rotated by CI',
      expiresIn: '90d',
      resetToken: true,
      ...(signal ? { signal } : {}),
    })
    if (issued.token !== null) secrets.set(name, issued.token)
  }
  return secrets
}

export async function main(): Promise<void> {
  const emulator = await Emulator.start({ users: ['alice:secret@dev'] })
  const client = new Client({ server: emulator.url, token: emulator.adminToken, workspace: 'dev', timeoutMs: 5000 })
  try {
    const secrets = await rotate(client, ['ci-deploy'], AbortSignal.timeout(10_000))
    const tokens: AccessToken[] = await client.listWorkspaceAccessTokens()
    const names: string[] = tokens.map((t) => t.name)
    console.log(secrets.size, names)
  } catch (e) {
    if (!isWayfinderError(e)) throw e
    const code: ErrorCode = e.code
    const rules: string[] = e.fieldErrors.map((f) => `${f.field}: ${f.code}`)
    const hint: string | null = e.hint
    if (code === 'ALREADY_EXISTS' && e.status === 409) console.error(rules, hint)
    if (e instanceof WayfinderError) console.error(e.name)
  } finally {
    await emulator.stop()
  }
}
