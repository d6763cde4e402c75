#!/usr/bin/env node
/**
 * A real wechaty puppet service on loopback for the WeChat transport's integration tests.
 *
 *   node server.mjs [PORT] [TOKEN] [BOT_NAME]
 *
 * PORT (or env PUPPET_PORT, default 0 = any free port), TOKEN (or env
 * WECHATY_PUPPET_SERVICE_TOKEN), BOT_NAME (or env BOT_NAME, default 返岗通).
 *
 * It runs `PuppetServer` (wechaty-puppet-service, plaintext gRPC) around a `PuppetMock`.
 * Control channel: one JSON object per line on stdin; the answer to a line is one JSON line
 * on stdout carrying the same "id" ({"id", "ok": true, ...} or {"id", "ok": false, "error"}).
 * Unsolicited events are JSON lines with an "event" key:
 *   {"event": "listening", "port", "token", "bot_id", "bot_name"}  once the gRPC port is bound
 *   {"event": "sent", "message_id", "room_id", "to", "text", "mention_ids", "file"}
 *   {"event": "friendship_accepted", "friendship_id", "contact_id"}
 *   {"event": "puppet", "state": "start" | "stop" | "login" | "logout"}
 * Commands ("cmd"):
 *   contact    {name, contact_id?, friend? = true}            -> {contact_id}
 *   room       {topic, members: [contact ids], room_id?}       -> {room_id} (the bot is a member)
 *   say        {from, to: "bot" | room id, text, mention_bot?, mentions?: [ids]} -> {message_id}
 *              in a room, mention_bot puts "@<bot name>\u2005" in front of the text, as WeChat does
 *   say_file   {from, to, name, base64}                        -> {message_id} (an image/file)
 *   join       {room, contacts: [ids], inviter?}               -> {} (emits room-join)
 *   friendship {contact_id?, name?, hello?}                    -> {friendship_id, contact_id}
 *   sent       {}                                              -> {sent: [every "sent" event]}
 *   logout     {}                                              -> {} (the bot account logs out)
 *   login      {}                                              -> {} (and logs in again)
 *
 * Two defects of wechaty-puppet-mock 1.19.4 are fixed here for python-wechaty 0.10:
 *  1. messageSendText/messageSendFile returned no message id and dropped mentionIdList;
 *  2. file-box 1.x serialises {type, url} where python's FileBox.from_json wants
 *     {boxType, remoteUrl}.
 * Its friendshipRawPayload (which returned only {id}) is replaced by a real payload too.
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import readline from 'node:readline'

import { FileBox, FileBoxType } from 'file-box'
import * as PUPPET from 'wechaty-puppet'
import { PuppetMock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'
import { grpc } from 'wechaty-grpc'

// stdout carries the control protocol only: every library log goes to stderr.
console.log = console.error
console.info = console.error
console.debug = console.error
PUPPET.log.level(process.env.WECHATY_LOG || 'warn')

const port = Number(process.argv[2] ?? process.env.PUPPET_PORT ?? 0)
const token = process.argv[3] ?? process.env.WECHATY_PUPPET_SERVICE_TOKEN
const botName = process.argv[4] ?? process.env.BOT_NAME ?? '返岗通'
const BOT_ID = 'wxid_fangangtong_bot'
if (!token) {
  console.error('usage: node server.mjs PORT TOKEN [BOT_NAME] (or env WECHATY_PUPPET_SERVICE_TOKEN)')
  process.exit(2)
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

/* Fix 2: python-wechaty's FileBox.from_json needs `boxType`, and `remoteUrl` for URL boxes. */
const originalToJSON = FileBox.prototype.toJSON
FileBox.prototype.toJSON = function toJSON () {
  const obj = originalToJSON.call(this)
  obj.boxType = obj.type
  if (obj.type === FileBoxType.Url) {
    obj.remoteUrl = obj.url
  }
  return obj
}

const isRoomId = (id) => /@chatroom$/.test(id)

const mediaMessageType = (fileBox) => {
  const kind = (fileBox.mediaType && fileBox.mediaType !== 'application/octet-stream')
    ? fileBox.mediaType
    : path.extname(fileBox.name || '').toLowerCase()
  if (/^image\/|^\.(jpe?g|png|gif)$/.test(kind)) return PUPPET.types.Message.Image
  if (/^video\/|^\.mp4$/.test(kind)) return PUPPET.types.Message.Video
  return PUPPET.types.Message.Attachment
}

const sentLog = []
const friendships = new Map()

class TestPuppet extends PuppetMock {
  /** Create a message in the mocker, emit it like the platform would, return its id. */
  postMessage ({ talkerId, conversationId, text, mentionIdList, fileBox }) {
    const id = randomUUID()
    const payload = {
      id,
      talkerId,
      timestamp: Date.now(),
      type: PUPPET.types.Message.Text,
    }
    if (fileBox) {
      this.mocker.cacheFileBoxPayload.set(id, fileBox.toJSON())
      payload.type = mediaMessageType(fileBox)
      payload.text = ''
    } else {
      payload.text = text
    }
    if (isRoomId(conversationId)) {
      payload.roomId = conversationId
      payload.mentionIdList = mentionIdList || []
    } else {
      payload.listenerId = conversationId
    }
    this.mocker.MessageMock.create(payload)
    this.emit('message', { messageId: id })
    return id
  }

  recordSend (conversationId, { text, mentionIdList, fileBox }) {
    if (!this.isLoggedIn) {
      throw new Error('not logged in')
    }
    const messageId = this.postMessage({
      conversationId, fileBox, mentionIdList, talkerId: this.currentUserId, text,
    })
    const event = {
      event: 'sent',
      file: fileBox
        ? { media_type: fileBox.mediaType || null, name: fileBox.name, size: fileBox.size ?? null }
        : null,
      mention_ids: mentionIdList || [],
      message_id: messageId,
      room_id: isRoomId(conversationId) ? conversationId : null,
      text: fileBox ? null : text,
      to: isRoomId(conversationId) ? null : conversationId,
    }
    sentLog.push(event)
    out(event)
    return messageId
  }

  /* Fix 1: return the id and keep the mention list. */
  async messageSendText (conversationId, text, mentionIdList) {
    return this.recordSend(conversationId, { mentionIdList: mentionIdList || [], text })
  }

  async messageSendFile (conversationId, fileBox) {
    return this.recordSend(conversationId, { fileBox })
  }

  async messageImage (messageId, _imageType) {
    return this.messageFile(messageId)
  }

  async friendshipRawPayload (id) {
    const payload = friendships.get(id)
    if (!payload) {
      throw new Error('no friendship ' + id)
    }
    return payload
  }

  async friendshipAccept (friendshipId) {
    const payload = await this.friendshipRawPayload(friendshipId)
    const contact = this.mocker.contactPayload(payload.contactId)
    contact.friend = true
    out({ contact_id: payload.contactId, event: 'friendship_accepted', friendship_id: friendshipId })
  }
}

const puppet = new TestPuppet()
const mocker = puppet.mocker
const bot = mocker.createContact({ id: BOT_ID, name: botName })

// The mocker runs its environments each time the puppet starts: log the bot in then.
mocker.use(() => {
  if (!puppet.isLoggedIn) {
    mocker.login(bot)
  }
  return () => {}
})
for (const state of ['start', 'stop', 'login', 'logout']) {
  puppet.on(state, () => out({ event: 'puppet', state }))
}

const contactPayload = ({ contact_id: id, name, friend = true }) => ({
  alias: undefined,
  avatar: '',
  friend,
  gender: PUPPET.types.ContactGender.Unknown,
  id: id || 'wxid_' + randomUUID().replace(/-/g, '').slice(0, 12),
  name: name || 'contact',
  phone: [],
  type: PUPPET.types.Contact.Individual,
})

const ensureContact = (args) => {
  if (args.contact_id && mocker.cacheContactPayload.has(args.contact_id)) {
    return mocker.ContactMock.load(args.contact_id)
  }
  return mocker.createContact(contactPayload(args))
}

const commands = {
  contact (args) {
    return { contact_id: ensureContact(args).id }
  },
  room ({ topic = 'room', members = [], room_id: roomId }) {
    const id = roomId || randomUUID().replace(/-/g, '').slice(0, 16) + '@chatroom'
    mocker.createRoom({
      adminIdList: [],
      avatar: '',
      id,
      memberIdList: [BOT_ID, ...members],
      ownerId: members[0] || BOT_ID,
      topic,
    })
    return { room_id: id }
  },
  say ({ from, to, text = '', mention_bot: mentionBot = false, mentions = [] }) {
    mocker.ContactMock.load(from) // throws for an unknown contact
    const conversationId = (to === 'bot' || !to) ? BOT_ID : to
    const mentionIdList = [...mentions]
    if (isRoomId(conversationId) && mentionBot) {
      text = `@${botName}\u2005${text}`
      mentionIdList.unshift(BOT_ID)
    }
    const messageId = puppet.postMessage({ conversationId, mentionIdList, talkerId: from, text })
    return { message_id: messageId }
  },
  say_file ({ from, to, name = 'photo.png', base64 }) {
    mocker.ContactMock.load(from)
    const conversationId = (to === 'bot' || !to) ? BOT_ID : to
    const fileBox = FileBox.fromBase64(base64 || Buffer.from('not really a png').toString('base64'), name)
    return { message_id: puppet.postMessage({ conversationId, fileBox, talkerId: from }) }
  },
  join ({ room, contacts = [], inviter }) {
    const roomMock = mocker.RoomMock.load(room)
    const invitees = contacts.map((id) => mocker.ContactMock.load(id))
    const by = inviter ? mocker.ContactMock.load(inviter) : mocker.ContactMock.load(BOT_ID)
    roomMock.add(...invitees).by(by)
    return {}
  },
  friendship ({ contact_id: contactId, name = 'stranger', hello = '' }) {
    const contact = ensureContact({ contact_id: contactId, friend: false, name })
    const id = 'friendship-' + randomUUID()
    friendships.set(id, {
      contactId: contact.id,
      hello,
      id,
      scene: PUPPET.types.FriendshipScene.Unknown,
      stranger: 'v1_' + contact.id,
      ticket: 'ticket-' + id,
      timestamp: Date.now(),
      type: PUPPET.types.Friendship.Receive,
    })
    puppet.emit('friendship', { friendshipId: id })
    return { contact_id: contact.id, friendship_id: id }
  },
  sent () {
    return { sent: sentLog }
  },
  async logout () {
    await puppet.logout('logout requested by the test')
    return {}
  },
  login () {
    if (!puppet.isLoggedIn) {
      mocker.login(bot)
    }
    return {}
  },
}

const server = new PuppetServer({
  endpoint: `127.0.0.1:${port}`,
  puppet,
  tls: { disable: true },
  token,
})

const shutdown = async (code) => {
  try {
    await server.stop()
  } catch (e) {
    console.error('stop failed:', e)
  }
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

// PuppetServer.start() does not tell which port it bound (PORT 0 = any): catch the answer.
let boundPort = port
const originalBindAsync = grpc.Server.prototype.bindAsync
grpc.Server.prototype.bindAsync = function bindAsync (address, credentials, callback) {
  return originalBindAsync.call(this, address, credentials, (err, actualPort) => {
    if (!err) boundPort = actualPort
    callback(err, actualPort)
  })
}
await server.start()
out({ bot_id: BOT_ID, bot_name: botName, event: 'listening', port: boundPort, token })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  if (!line.trim()) return
  let request
  try {
    request = JSON.parse(line)
  } catch (e) {
    out({ error: 'bad json: ' + e.message, ok: false })
    return
  }
  const { id = null, cmd, ...args } = request
  try {
    const handler = commands[cmd]
    if (!handler) throw new Error('unknown cmd ' + cmd)
    out({ id, ok: true, ...(await handler(args)) })
  } catch (e) {
    out({ error: String(e && e.message ? e.message : e), id, ok: false })
  }
})
// The test harness closing stdin means it is gone: do not outlive it.
rl.on('close', () => shutdown(0))
