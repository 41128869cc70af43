// What pds.mjs and appview.mjs share: a temporary folder for the network's files, and a stop
// (on SIGTERM/SIGINT, or when the script calls it) that closes the network once, removes the
// folder and exits, with status 1 if closing failed.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export async function lifecycle(name) {
  const run = { dir: await fs.mkdtemp(path.join(os.tmpdir(), `clarion-${name}-`)) }
  let stopping = false
  run.stopping = () => stopping
  run.stop = async () => {
    if (stopping) return
    stopping = true
    let code = 0
    try {
      await run.network?.close()
    } catch (err) {
      console.error(`${name}: error while stopping:`, err)
      code = 1
    }
    await fs.rm(run.dir, { recursive: true, force: true })
    process.exit(code)
  }
  process.on('SIGTERM', run.stop)
  process.on('SIGINT', run.stop)
  return run
}
