#!/usr/bin/env node
// `npx wayfinder-tokens …`: the core's CLI, with the same flags, output and
// exit codes; `npx wayfinder-tokens emulator …` runs the emulator command.
'use strict'

const os = require('node:os')

const { runCliStdio, Emulator } = require('../index.js')

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
  // Ctrl-C or SIGTERM interrupts: a rotation in progress starts nothing new and writes every
  // secret already issued before it exits; a second signal stops at once.
  const interrupt = new AbortController()
  let received = null
  const onSignal = (signal) => {
    if (received) {
      process.stderr.write('interrupted\n')
      process.exit(128 + os.constants.signals[signal])
    }
    received = signal
    interrupt.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // The core writes to the process's own stdout and stderr, checking every write.
  const code = await runCliStdio(argv, interrupt.signal)
  process.exitCode = code === 130 && received ? 128 + os.constants.signals[received] : code
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`error: ${error.message}\n`)
  process.exitCode = 1
})
