// A second MQTT broker for depot-agent's end-to-end tests: aedes (MQTT 3.1.1 only) on
// 127.0.0.1:PORT. Sessions and queued messages stay in memory, or with DIR in a LevelDB there
// (aedes-persistence-level) so a restart keeps them; the tests do not use DIR because that
// store lost acknowledged messages now and then (README.md). Prints "listening PORT" when
// ready and closes cleanly on SIGTERM/SIGINT. With DEPOT_AEDES_DENY_CMD=FILE, a subscription to
// a topic filter with "/cmd/" in it is refused (SUBACK 0x80, the connection kept) while FILE
// exists, as an ACL would: the agent's retry of its command subscription is tested with it.
//   node broker.js PORT [DIR]
import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import levelPersistence from 'aedes-persistence-level'
import { Level } from 'level'

const port = Number(process.argv[2])
const dir = process.argv[3]
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node broker.js PORT [DIR]')
  process.exit(2)
}

const db = dir ? new Level(dir) : null
const broker = await Aedes.createBroker(db ? { persistence: levelPersistence(db) } : {})
const denyCmd = process.env.DEPOT_AEDES_DENY_CMD
if (denyCmd) {
  const { existsSync } = await import('node:fs')
  broker.authorizeSubscribe = (client, sub, callback) => {
    if (sub.topic.includes('/cmd/') && existsSync(denyCmd)) {
      console.log(`subscription ${sub.topic} of ${client.id} refused`)
      return callback(null, null)  // negated: SUBACK 0x80, the connection stays
    }
    callback(null, sub)
  }
}
broker.on('client', (c) => console.log(`client ${c.id} connected`))
broker.on('clientDisconnect', (c) => console.log(`client ${c.id} disconnected`))
broker.on('clientError', (c, e) => console.log(`client ${c.id} error: ${e.message}`))
broker.on('connectionError', (c, e) => console.log(`connection error: ${e.message}`))

const server = createServer(broker.handle)
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`))

let closing = false
async function shutdown () {
  if (closing) return
  closing = true
  server.close()
  await new Promise((resolve) => broker.close(resolve))
  if (db) await db.close()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
