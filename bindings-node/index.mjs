// ESM entry: the same exports as the CommonJS loader that `napi build` generates.
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./index.js')

export const {
  BatchReport,
  Client,
  Emulator,
  IssuedToken,
  Plan,
  TokenSpec,
  WayfinderError,
  destinations,
  isWayfinderError,
  loadSpec,
  parseSpec,
  renderTable,
  runCli,
  runCliStdio,
  setLogger,
  specSchema,
  VERSION,
} = native
export default native
