// Create a workspace access token, reset it, grant it a role, and print the
// lines a CI needs. Settings come from WAYFINDER_SERVER + WAYFINDER_TOKEN
// (+ WAYFINDER_WORKSPACE), else from the wf CLI's config file. `make demo`
// runs this against the embedded emulator.
import { Client } from 'wayfinder-tokens'

const wf = Client.fromEnv()
let issued = await wf.createWorkspaceAccessToken('ci-deploy-node', { description: 'My deployment token' })
console.log(`node: created '${issued.name}' in workspace '${issued.workspace}'`)
issued = await wf.resetWorkspaceAccessToken('ci-deploy-node')
console.log('node: reset it; the first secret no longer works')
const roles = await wf.assignWayfinderRole('ci-deploy-node', 'workspace.accesstokenmanager')
console.log(`node: granted ${JSON.stringify(roles.wayfinderRoles)}`)
process.stdout.write(issued.toExport())
