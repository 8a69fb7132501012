#!/usr/bin/env node
// `npx wayfinder-tokens …`: the core's CLI, with the same flags, output and
// exit codes; `npx wayfinder-tokens emulator …` runs the emulator command.
'use strict'

const { runCli, Emulator } = require('../index.js')

async function emulator(args) {
  const usage = Emulator.usage(args)
  if (usage) {
    ;(usage.code === 0 ? process.stdout : process.stderr).write(usage.text)
    process.exitCode = usage.code
    return
  }
  const running = await Emulator.fromArgs(args)
  process.stdout.write(`${running.firstLine}\n`)
  // The server lives on native threads; this handle keeps Node running until a signal.
  const alive = setInterval(() => {}, 2 ** 30)
  const stop = () => {
    clearInterval(alive)
    running.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

async function main(argv) {
  if (argv[0] === 'emulator') {
    return emulator(argv.slice(1))
  }
  const { code, stdout, stderr } = await runCli(argv)
  process.stdout.write(stdout)
  process.stderr.write(stderr)
  process.exitCode = code
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`error: ${error.message}\n`)
  process.exitCode = 1
})
