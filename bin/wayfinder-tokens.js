#!/usr/bin/env node
// `npx wayfinder-tokens …`: the core's CLI, with the same flags, output and exit codes.
'use strict'

const { runCli } = require('..')

runCli(process.argv.slice(2)).then(
  ({ code, stdout, stderr }) => {
    process.stdout.write(stdout)
    process.stderr.write(stderr)
    process.exitCode = code
  },
  (error) => {
    process.stderr.write(`error: ${error.message}\n`)
    process.exitCode = 1
  },
)
