-- punchlab.lua: a Wireshark/tshark dissector for punchlab's (and Tailscale's)
-- disco packets and DERP frames, and punchlab's control protocol
-- (docs/PROTOCOL.md), for the captures `punchlab run --pcap` writes.
--
--   tshark -X lua_script:analysis/wireshark/punchlab.lua -r results/<name>/pcap/node-alice.pcap
--   tshark -X lua_script:analysis/wireshark/punchlab.lua -d tcp.port==443,punchlab_derp \
--          -r results/<name>/pcap/derp-fra.pcap
--
-- or copy it into ~/.local/lib/wireshark/plugins/. Disco packets on any UDP
-- port are found by their magic; DERP runs on the DERP server's TCP port
-- (443 in the simulation, after a modelled TLS handshake whose records carry
-- no secrets and are shown as such; the application bytes after it are
-- plaintext), which Wireshark takes for TLS, hence "Decode As" (-d). Disco
-- packets relayed inside DERP SendPacket/RecvPacket frames are dissected too.
--
-- Disco payloads are sealed (NaCl box). A run with --pcap (in either world)
-- writes pcap/disco-keys.log beside the captures: per sealed message, its nonce and
-- the message as sealed. Given that file, the dissector opens each packet
-- whose nonce it lists and shows the message (Ping/Pong/CallMeMaybe, txid,
-- node key, the pong's source, the CallMeMaybe's endpoints):
--
--   tshark -X lua_script:analysis/wireshark/punchlab.lua \
--          -o punchlab_disco.keylog:results/<name>/pcap/disco-keys.log -r ...
--
-- Without it only the header (sender's disco key, nonce) and the sealed
-- size show; the run's disco log (disco.csv) has the rest, by txid.
--
-- In the real lab DERP runs over TLS on port 3340. A run with --pcap writes
-- pcap/all.pcapng with the DERP servers' TLS key log inside, so the frames
-- decrypt with no key option:
--
--   tshark -X lua_script:analysis/wireshark/punchlab.lua -d tcp.port==3340,tls \
--          -r results/<name>/pcap/all.pcapng
--
-- (a per-link .pcap needs -o tls.keylog_file:results/<name>/pcap/tls-keys.log).
--
-- The control protocol (TCP port 8080, a preference; no HTTP, no TLS) shows
-- each frame: the hello in plaintext; the rest sealed, opened with the key
-- log a run writes beside its captures (in either world):
--
--   tshark -X lua_script:analysis/wireshark/punchlab.lua \
--          -o punchlab_control.keylog:results/<name>/pcap/control-keys.log \
--          -Y 'punchlab_control.type == "registered"' -r results/<name>/pcap/control.pcap

local DISCO_MAGIC = "5453f09f92ac"          -- "TS" U+1F4AC
local DERP_MAGIC = "44455250f09f9491"       -- "DERP" U+1F511
local NONCE_SIZE = 24                       -- NaCl box nonce
local DISCO_HEADER = 6 + 32 + NONCE_SIZE
local BOX_OVERHEAD = 16

-- Disco ------------------------------------------------------------------------

local disco = Proto("punchlab_disco", "punchlab disco")
local df = {
  magic = ProtoField.bytes("punchlab_disco.magic", "Magic"),
  sender = ProtoField.bytes("punchlab_disco.sender", "Sender disco key"),
  nonce = ProtoField.bytes("punchlab_disco.nonce", "Nonce"),
  sealed = ProtoField.bytes("punchlab_disco.sealed", "Sealed message (NaCl box)"),
  sealed_len = ProtoField.uint32("punchlab_disco.sealed_len", "Sealed length"),
}
local message_names = { [0x01] = "Ping", [0x02] = "Pong", [0x03] = "CallMeMaybe" }
df.type = ProtoField.uint8("punchlab_disco.type", "Message type", base.HEX, message_names)
df.version = ProtoField.uint8("punchlab_disco.version", "Version")
df.txid = ProtoField.bytes("punchlab_disco.txid", "Transaction id")
df.node_key = ProtoField.bytes("punchlab_disco.node_key", "Sender node key")
df.source = ProtoField.string("punchlab_disco.source", "Source the peer saw")
df.endpoint = ProtoField.string("punchlab_disco.endpoint", "Endpoint")
disco.fields = { df.magic, df.sender, df.nonce, df.sealed, df.sealed_len, df.type, df.version,
                 df.txid, df.node_key, df.source, df.endpoint }
disco.prefs.keylog = Pref.string("Key log", "",
                                 "pcap/disco-keys.log of a run: nonce and message per line")

-- A key log (disco's or control's: "<nonce hex> <message hex>" per line) as
-- a lookup nonce hex -> message hex, read again whenever the path that
-- `path()` returns changes.
local function KeyLog(path)
  local keys, keys_path = {}, nil
  return function(nonce_hex)
    if keys_path ~= path() then
      keys, keys_path = {}, path()
      local f = keys_path ~= "" and io.open(keys_path, "r") or nil
      if f then
        for line in f:lines() do
          local nonce, plain = line:match("^(%x+) (%x+)$")
          if nonce then keys[nonce:lower()] = plain end
        end
        f:close()
      end
    end
    return keys[nonce_hex]
  end
end
local key_for = KeyLog(function() return disco.prefs.keylog end)

-- A 16-byte IP (IPv4 as v4-mapped IPv6) and a u16 port at tvb(offset).
local function endpoint_text(tvb, offset)
  local ip = tvb(offset, 16):bytes()
  local port = tvb(offset + 16, 2):uint()
  local mapped = tostring(ip):sub(1, 24):lower() == "00000000000000000000ffff"
  if mapped then
    return string.format("%d.%d.%d.%d:%d", ip:get_index(12), ip:get_index(13),
                         ip:get_index(14), ip:get_index(15), port)
  end
  local groups = {}
  for i = 0, 14, 2 do groups[#groups + 1] = string.format("%x", tvb(offset + i, 2):uint()) end
  return "[" .. table.concat(groups, ":") .. "]:" .. port
end

-- The opened message (plaintext: type, version, payload) into `tree`; its
-- one-line summary.
local function message(plain, tree)
  local t = tree:add(disco, plain(), "Disco message (opened with the key log)")
  local mtype = plain(0, 1):uint()
  t:add(df.type, plain(0, 1))
  t:add(df.version, plain(1, 1))
  local name = message_names[mtype] or string.format("type 0x%02x", mtype)
  if (mtype == 0x01 or mtype == 0x02) and plain:len() >= 14 then
    t:add(df.txid, plain(2, 12))
    name = name .. " txid " .. tostring(plain(2, 12):bytes()):lower()
    if mtype == 0x01 and plain:len() >= 46 then t:add(df.node_key, plain(14, 32)) end
    if mtype == 0x02 and plain:len() >= 32 then
      local seen = endpoint_text(plain, 14)
      t:add(df.source, plain(14, 18), seen)
      name = name .. " saw " .. seen
    end
  elseif mtype == 0x03 then
    local n = 0
    for offset = 2, plain:len() - 18, 18 do
      t:add(df.endpoint, plain(offset, 18), endpoint_text(plain, offset))
      n = n + 1
    end
    name = name .. " (" .. n .. " endpoints)"
  end
  return name
end

local function is_disco(tvb)
  return tvb:len() >= DISCO_HEADER + BOX_OVERHEAD + 2 and
         tostring(tvb(0, 6):bytes()):lower() == DISCO_MAGIC
end

function disco.dissector(tvb, pinfo, tree)
  if not is_disco(tvb) then return 0 end
  local t = tree:add(disco, tvb(), "punchlab disco")
  t:add(df.magic, tvb(0, 6))
  t:add(df.sender, tvb(6, 32))
  t:add(df.nonce, tvb(38, 24))
  local sealed = tvb:len() - DISCO_HEADER
  t:add(df.sealed, tvb(DISCO_HEADER, sealed))
  t:add(df.sealed_len, tvb(DISCO_HEADER, sealed), sealed)
  pinfo.cols.protocol = "disco"
  local plain_hex = key_for(tostring(tvb(38, 24):bytes()):lower())
  if plain_hex then
    local plain = ByteArray.new(plain_hex):tvb("Disco plaintext")
    pinfo.cols.info = "disco " .. message(plain, t)
  else
    pinfo.cols.info = "disco from " .. tostring(tvb(6, 4):bytes()):lower() .. "..., " ..
                      sealed .. " sealed bytes"
  end
  return tvb:len()
end

local function disco_heuristic(tvb, pinfo, tree)
  if not is_disco(tvb) then return false end
  disco.dissector(tvb, pinfo, tree)
  return true
end
disco:register_heuristic("udp", disco_heuristic)

-- DERP ---------------------------------------------------------------------------

local frame_names = {
  [0x01] = "ServerKey", [0x02] = "ClientInfo", [0x03] = "ServerInfo", [0x04] = "SendPacket",
  [0x05] = "RecvPacket", [0x06] = "KeepAlive", [0x07] = "NotePreferred", [0x08] = "PeerGone",
  [0x09] = "PeerPresent", [0x0a] = "ForwardPacket", [0x10] = "WatchConns", [0x11] = "ClosePeer",
  [0x12] = "Ping", [0x13] = "Pong", [0x14] = "Health", [0x15] = "Restarting",
}

local derp = Proto("punchlab_derp", "punchlab DERP")
local rf = {
  type = ProtoField.uint8("punchlab_derp.type", "Frame type", base.HEX, frame_names),
  length = ProtoField.uint32("punchlab_derp.length", "Payload length"),
  magic = ProtoField.bytes("punchlab_derp.magic", "Magic"),
  key = ProtoField.bytes("punchlab_derp.key", "Key"),
  dst = ProtoField.bytes("punchlab_derp.dst", "Destination key"),
  src = ProtoField.bytes("punchlab_derp.src", "Source key"),
  payload = ProtoField.bytes("punchlab_derp.payload", "Payload"),
  http = ProtoField.string("punchlab_derp.http", "HTTP upgrade"),
  tls = ProtoField.string("punchlab_derp.tls", "TLS record (modelled handshake)"),
}
derp.fields = { rf.type, rf.length, rf.magic, rf.key, rf.dst, rf.src, rf.payload, rf.http, rf.tls }
local tls_names = { [20] = "change_cipher_spec", [21] = "alert", [22] = "handshake",
                    [23] = "application_data" }

local MAX_FRAME = 64 * 1024 + 64

-- One frame's tree; a relayed disco packet goes to the disco dissector.
local function frame(tvb, pinfo, tree, offset, ftype, len)
  local name = frame_names[ftype] or string.format("unknown 0x%02x", ftype)
  local t = tree:add(derp, tvb(offset, 5 + len), "DERP " .. name)
  t:add(rf.type, tvb(offset, 1))
  t:add(rf.length, tvb(offset + 1, 4))
  local p = offset + 5
  if ftype == 0x01 and len >= 40 then
    t:add(rf.magic, tvb(p, 8))
    t:add(rf.key, tvb(p + 8, 32))
  elseif (ftype == 0x04 or ftype == 0x05) and len >= 32 then
    t:add(ftype == 0x04 and rf.dst or rf.src, tvb(p, 32))
    if len > 32 then
      local inner = tvb(p + 32, len - 32):tvb()
      if is_disco(inner) then disco.dissector(inner, pinfo, t) else t:add(rf.payload, tvb(p + 32, len - 32)) end
    end
  elseif len > 0 then
    t:add(rf.payload, tvb(p, len))
  end
  return name
end

-- A record of the simulation's modelled TLS handshake (models/model/tls-model.h):
-- change_cipher_spec, alert, handshake or application_data with version
-- 3.x. No DERP frame looks like one: the two version bytes would be the top
-- of a frame length far above MAX_FRAME.
local function is_tls_record(tvb, offset)
  if tvb:len() - offset < 3 then return false end
  local ctype = tvb(offset, 1):uint()
  return ctype >= 20 and ctype <= 23 and tvb(offset + 1, 1):uint() == 3
      and tvb(offset + 2, 1):uint() <= 4
end

function derp.dissector(tvb, pinfo, tree)
  local offset = 0
  local names = {}
  local total = tvb:len()
  -- The simulation's modelled TLS handshake before the upgrade.
  while offset < total and is_tls_record(tvb, offset) do
    if total - offset < 5 then break end
    local len = tvb(offset + 3, 2):uint()
    if total - offset < 5 + len then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = 5 + len - (total - offset)
      return
    end
    tree:add(rf.tls, tvb(offset, 5 + len), tls_names[tvb(offset, 1):uint()])
    names[#names + 1] = "TLS " .. tls_names[tvb(offset, 1):uint()] .. " (modelled)"
    offset = offset + 5 + len
  end
  if offset >= total then
    pinfo.cols.protocol = "DERP"
    if #names > 0 then pinfo.cols.info = table.concat(names, ", ") end
    return
  end
  -- The HTTP/1.1 upgrade (GET /derp ... or HTTP/1.1 101 ...) before the frames.
  local head = tvb(offset, math.min(total - offset, 5)):string()
  if head == "GET /" or head == "HTTP/" then
    local text = tvb(offset):string()
    local stop = text:find("\r\n\r\n", 1, true)
    if not stop then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      return
    end
    tree:add(rf.http, tvb(offset, stop + 3), text:sub(1, (text:find("\r\n", 1, true) or stop) - 1))
    names[#names + 1] = "HTTP upgrade"
    offset = offset + stop + 3
  end
  while offset < total do
    if total - offset < 5 then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      break
    end
    local ftype = tvb(offset, 1):uint()
    local len = tvb(offset + 1, 4):uint()
    if len > MAX_FRAME then break end  -- not DERP (or lost sync): leave the rest raw
    if total - offset < 5 + len then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = 5 + len - (total - offset)
      break
    end
    names[#names + 1] = frame(tvb, pinfo, tree, offset, ftype, len)
    offset = offset + 5 + len
  end
  pinfo.cols.protocol = "DERP"
  if #names > 0 then pinfo.cols.info = table.concat(names, ", ") end
end

-- "Decode As" DERP on the DERP server's TCP port (-d tcp.port==443,punchlab_derp).
DissectorTable.get("tcp.port"):add_for_decode_as(derp)
-- Over TLS, once the key log decrypts it, Wireshark's HTTP dissector reads
-- the upgrade (GET /derp, "Upgrade: DERP") and hands what follows the 101 to
-- the dissector registered for that token.
DissectorTable.get("http.upgrade"):add("derp", derp)

-- Control ---------------------------------------------------------------------------
-- punchlab's control plane (protocol/include/punchlab/control/messages.h):
-- on TCP (port 8080 in both runners), frames of a u32 big-endian length and
-- a payload. The node's first frame, the hello, is plaintext JSON; every
-- other frame is sealed with the session's key (nonce || NaCl box). With a
-- run's pcap/control-keys.log (nonce and message per sealed frame, the disco
-- key log's format) each sealed frame shows its message. A session whose
-- register asked for compression ("compress": "zstd") gets every later
-- server frame's message as one zstd frame inside the box
-- (protocol/include/punchlab/control/compression.h); the key log holds the
-- JSON, so those show their message too, marked zstd with both sizes (told
-- by the box holding another number of bytes than the logged JSON, fewer
-- or, for a short message, more: a compressed message of exactly its JSON's
-- size would show as plain).
-- Wireshark's JSON dissector reads each message; the message's type and key
-- fields are read back from its tree (json.path_with_value), not parsed here.

local control = Proto("punchlab_control", "punchlab control")
local cf = {
  length = ProtoField.uint32("punchlab_control.length", "Frame length"),
  nonce = ProtoField.bytes("punchlab_control.nonce", "Nonce"),
  sealed = ProtoField.bytes("punchlab_control.sealed", "Sealed message (NaCl box)"),
  sealed_len = ProtoField.uint32("punchlab_control.sealed_len", "Sealed length"),
  compression = ProtoField.string("punchlab_control.compression", "Compression"),
  message_len = ProtoField.uint32("punchlab_control.message_len", "Message length (JSON)"),
  type = ProtoField.string("punchlab_control.type", "Message type"),
  seq = ProtoField.uint64("punchlab_control.seq", "Sequence number"),
  version = ProtoField.uint32("punchlab_control.version", "Protocol version"),
  node_key = ProtoField.string("punchlab_control.node_key", "Node key"),
  disco_key = ProtoField.string("punchlab_control.disco_key", "Disco key"),
  endpoint = ProtoField.string("punchlab_control.endpoint", "Endpoint"),
  home_region = ProtoField.uint32("punchlab_control.home_region", "Home DERP region"),
  address = ProtoField.string("punchlab_control.address", "Overlay address"),
  user = ProtoField.string("punchlab_control.user", "User"),
  domain = ProtoField.string("punchlab_control.domain", "Domain"),
  reason = ProtoField.string("punchlab_control.reason", "Reason"),
  peers = ProtoField.uint32("punchlab_control.peers", "Peers in the netmap"),
  peer = ProtoField.string("punchlab_control.peer", "Peer node key"),
  changed = ProtoField.uint32("punchlab_control.changed", "Peers added or changed"),
  removed = ProtoField.uint32("punchlab_control.removed", "Peers removed"),
  patched = ProtoField.uint32("punchlab_control.patched", "Peers patched (changed fields only)"),
}
control.fields = { cf.length, cf.nonce, cf.sealed, cf.sealed_len, cf.compression,
                   cf.message_len, cf.type, cf.seq, cf.version,
                   cf.node_key, cf.disco_key, cf.endpoint, cf.home_region, cf.address, cf.user,
                   cf.domain, cf.reason, cf.peers, cf.peer, cf.changed, cf.removed,
                   cf.patched }
control.prefs.keylog = Pref.string("Key log", "",
                                   "pcap/control-keys.log of a run: nonce and message per line")
control.prefs.port = Pref.uint("TCP port", 8080, "The coordination server's port (0: none)")

local CONTROL_MAX_FRAME = 4 * 1024 * 1024  -- control::kMaxFrameSize
local control_keys = KeyLog(function() return control.prefs.keylog end)
local json = Dissector.get("json")
local json_path_with_value = Field.new("json.path_with_value")

-- The message's members as Wireshark's JSON dissector read them: path -> list
-- of values ("/type" -> {"hello"}, "/peers/[]/node_key" -> {...}), from the
-- json.path_with_value items added since `before`.
local function json_members(before)
  local members = {}
  local all = { json_path_with_value() }
  for i = before + 1, #all do
    local path, value = tostring(all[i].value):match("^([^:]*):(.*)$")
    if path then
      members[path] = members[path] or {}
      table.insert(members[path], value)
    end
  end
  return members
end

-- One message (plaintext JSON tvb) into `tree`: Wireshark's JSON tree and our
-- key fields; its one-line summary.
local function control_message(plain, pinfo, tree)
  local before = select("#", json_path_with_value())
  json:call(plain, pinfo, tree)
  local m = json_members(before)
  local function first(path) return m[path] and m[path][1] end
  local function count(path) return m[path] and #m[path] or 0 end
  local mtype = first("/type") or "?"
  tree:add(cf.type, plain(), mtype)
  if first("/seq") then tree:add(cf.seq, plain(), UInt64(tonumber(first("/seq")))) end
  local summary = mtype
  local function add(field, path, label)
    for _, v in ipairs(m[path] or {}) do
      tree:add(field, plain(), field == cf.home_region and tonumber(v) or v)
      if label then summary = summary .. " " .. label .. v end
    end
  end
  if mtype == "hello" then
    add(cf.version, "/version")
    add(cf.node_key, "/node_key", "")
  elseif mtype == "register" or mtype == "update" then
    add(cf.disco_key, "/disco_key")
    add(cf.endpoint, "/endpoints/[]")
    add(cf.home_region, "/home_region", "region ")
    if m["/endpoints/[]"] or mtype == "register" then
      summary = summary .. " (" .. count("/endpoints/[]") .. " endpoints)"
    end
  elseif mtype == "registered" then
    add(cf.address, "/address", "")
    add(cf.user, "/user", "as ")
    add(cf.domain, "/domain", "in ")
  elseif mtype == "refused" or mtype == "goodbye" then
    add(cf.reason, "/reason", "")
  elseif mtype == "netmap" then
    add(cf.domain, "/domain", "")
    add(cf.node_key, "/self/node_key")
    add(cf.address, "/self/address")
    add(cf.peer, "/peers/[]/node_key")
    tree:add(cf.peers, plain(), count("/peers/[]/node_key"))
    summary = summary .. " (" .. count("/peers/[]/node_key") .. " peers)"
  elseif mtype == "peers_changed" then
    -- "patched" (left out when empty): the fields that changed in entries
    -- the session already holds (Tailscale's PeersChangedPatch).
    add(cf.peer, "/changed/[]/node_key")
    add(cf.peer, "/patched/[]/node_key")
    tree:add(cf.changed, plain(), count("/changed/[]/node_key"))
    tree:add(cf.removed, plain(), count("/removed/[]"))
    tree:add(cf.patched, plain(), count("/patched/[]/node_key"))
    summary = summary .. " (" .. count("/changed/[]/node_key") .. " changed, " ..
              count("/patched/[]/node_key") .. " patched, " .. count("/removed/[]") .. " removed)"
  end
  return summary
end

-- One frame's payload at tvb(offset, len).
local function control_frame(tvb, pinfo, tree, offset, len)
  local t = tree:add(control, tvb(offset, 4 + len), "punchlab control frame")
  t:add(cf.length, tvb(offset, 4))
  local payload = tvb(offset + 4, len)
  local plain_hex
  if len >= NONCE_SIZE + BOX_OVERHEAD then
    plain_hex = control_keys(tostring(tvb(offset + 4, NONCE_SIZE):bytes()):lower())
  end
  if plain_hex then
    t:add(cf.nonce, tvb(offset + 4, NONCE_SIZE))
    t:add(cf.sealed_len, payload, len - NONCE_SIZE)
    local message = ByteArray.new(plain_hex)
    local boxed = len - NONCE_SIZE - BOX_OVERHEAD  -- what the box holds
    t:add(cf.message_len, payload, message:len())
    if boxed ~= message:len() then t:add(cf.compression, payload, "zstd") end
    local summary = control_message(message:tvb("Control message"), pinfo, t)
    if boxed ~= message:len() then
      summary = summary .. " [zstd " .. boxed .. " of " .. message:len() .. " bytes]"
    end
    return summary
  end
  local text = payload:string()
  if text:sub(1, 1) == "{" and text:sub(-1) == "}" then  -- the hello: plaintext
    return control_message(payload:tvb(), pinfo, t)
  end
  if len >= NONCE_SIZE then t:add(cf.nonce, tvb(offset + 4, NONCE_SIZE)) end
  t:add(cf.sealed, payload)
  t:add(cf.sealed_len, payload, math.max(len - NONCE_SIZE, 0))
  return "sealed, " .. len .. " bytes"
end

function control.dissector(tvb, pinfo, tree)
  local total = tvb:len()
  if total >= 4 and tvb(0, 4):uint() > CONTROL_MAX_FRAME then
    -- Not a control frame (text starts far above the limit): HTTP or data.
    return Dissector.get("http"):call(tvb, pinfo, tree)
  end
  local offset, names = 0, {}
  while offset < total do
    if total - offset < 4 then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      break
    end
    local len = tvb(offset, 4):uint()
    if len > CONTROL_MAX_FRAME then break end  -- lost sync: leave the rest raw
    if total - offset < 4 + len then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = 4 + len - (total - offset)
      break
    end
    names[#names + 1] = control_frame(tvb, pinfo, tree, offset, len)
    offset = offset + 4 + len
  end
  pinfo.cols.protocol = "control"
  if #names > 0 then pinfo.cols.info = "control " .. table.concat(names, ", ") end
  return total
end

-- The coordination server's port (a preference), and "Decode As" for others.
local control_port = 0
local function register_control_port()
  local ports = DissectorTable.get("tcp.port")
  if control_port ~= 0 then ports:remove(control_port, control) end
  control_port = control.prefs.port
  if control_port ~= 0 then ports:add(control_port, control) end
end
control.prefs_changed = register_control_port
register_control_port()
DissectorTable.get("tcp.port"):add_for_decode_as(control)
