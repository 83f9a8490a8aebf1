-- mih80221a.lua: Wireshark dissector for mihsec's PROVISIONAL 802.21a additions to MIH (IEEE 802.21).
--
-- Runs Wireshark's own MIH dissector first (header, 802.21-2008 TLVs), then adds a "mih80221a" tree:
--   * header bit S (protected PDU) and P, octet 4 (0x40, 0x80);
--   * the protected envelope, TLV 174: SAID (4), SEQ (8), ciphertext length, tag (16);
--   * the provisional TLVs 160-174 of node_agents/mih/codepoints.py (EAP payloads handed to the EAP
--     dissector, nonces, SAID, ciphersuite, key confirmation, security capabilities, Push_Key fields);
--   * the names of the provisional 802.21a actions (AID 1008-1011, and LL_Auth 9).
-- Codepoints are provisional (docs/mih-security.md); change them here and in codepoints.py together.
-- Use: tshark -X lua_script:tools/wireshark/mih80221a.lua -r capture.pcap -O mih80221a

local p = Proto("mih80221a", "MIH 802.21a security (mihsec, provisional)")

local TLV_NAMES = {
  [160] = "EAP payload", [161] = "LLInformation", [162] = "MN link address", [163] = "Key name",
  [164] = "Wrapped key", [165] = "Key lifetime", [166] = "Replay counter", [167] = "Integrity tag",
  [168] = "AKM suite", [169] = "Security capabilities", [170] = "Nonce", [171] = "Ciphersuite",
  [172] = "SA identifier", [173] = "Key confirmation (AUTH)", [174] = "Protected payload",
}
local ACTIONS = { [9] = "LL_Auth", [1008] = "Auth", [1009] = "Pro_Auth", [1010] = "Pro_Auth_Termination",
                  [1011] = "Push_Key" }
local OPCODES = { [0] = "confirm", [1] = "request", [2] = "response", [3] = "indication" }
local SUITES = { [1] = "AES-128-CCM-16", [2] = "AES-128-GCM-16" }
local MODES = { "eap_sa", "tls_sa", "proactive", "ll_relay", "push_key" }

local f = {
  protected = ProtoField.bool("mih80221a.protected", "Protected (S bit)", 8, nil, 0x40),
  p_bit = ProtoField.bool("mih80221a.p_bit", "P bit", 8, nil, 0x80),
  action = ProtoField.string("mih80221a.action", "802.21a action"),
  tlv_type = ProtoField.uint8("mih80221a.tlv_type", "TLV type", base.DEC, TLV_NAMES),
  tlv_length = ProtoField.uint32("mih80221a.tlv_length", "TLV value length"),
  said = ProtoField.uint32("mih80221a.said", "SA identifier", base.HEX),
  seq = ProtoField.uint64("mih80221a.seq", "Sequence number"),
  ct_len = ProtoField.uint32("mih80221a.ciphertext_len", "Ciphertext length"),
  ciphertext = ProtoField.bytes("mih80221a.ciphertext", "Ciphertext"),
  tag = ProtoField.bytes("mih80221a.tag", "AEAD tag"),
  eap = ProtoField.bytes("mih80221a.eap_payload", "EAP payload"),
  octets = ProtoField.bytes("mih80221a.value", "Value"),
  nonce = ProtoField.bytes("mih80221a.nonce", "Nonce"),
  suite = ProtoField.uint8("mih80221a.ciphersuite", "Ciphersuite", base.DEC, SUITES),
  sa_id = ProtoField.uint32("mih80221a.sa_id", "SA identifier (SA establishment)", base.HEX),
  auth = ProtoField.bytes("mih80221a.auth_tag", "Key confirmation tag"),
  modes = ProtoField.uint8("mih80221a.sec_modes", "Security modes", base.HEX),
  mode = ProtoField.string("mih80221a.sec_mode", "Security mode"),
  offer = ProtoField.uint8("mih80221a.offered_suite", "Offered ciphersuite", base.DEC, SUITES),
  u32 = ProtoField.uint32("mih80221a.uint", "Value"),
  u64 = ProtoField.uint64("mih80221a.uint64", "Value"),
}
p.fields = {}
for _, v in pairs(f) do table.insert(p.fields, v) end

local udp_port, ethertype = DissectorTable.get("udp.port"), DissectorTable.get("ethertype")
local mih = udp_port:get_dissector(4551)   -- Wireshark's own MIH dissector, before we take the port
local eap = Dissector.get("eap")

-- 802.21 length: one octet up to 128, else 0x80|k and k octets holding length - 128. Returns length, size.
local function tlv_len(tvb, o)
  if o >= tvb:len() then return nil end
  local first = tvb(o, 1):uint()
  if first <= 128 then return first, 1 end
  local k = first - 128
  if k < 1 or k > 4 or o + 1 + k > tvb:len() then return nil end
  return 128 + tvb(o + 1, k):uint(), 1 + k
end

-- OCTET_STRING inside a TLV value: its own length, then the octets
local function octet_string(tvb, o, e)
  local n, s = tlv_len(tvb, o)
  if n == nil or o + s + n > e then return nil end
  return tvb(o + s, n)
end

local function envelope(tvb, o, n, tree)
  if n < 28 then tree:add_expert_info(PI_MALFORMED, PI_ERROR, "protected payload shorter than SAID, SEQ, tag") return end
  tree:add(f.said, tvb(o, 4))
  tree:add(f.seq, tvb(o + 4, 8))
  tree:add(f.ct_len, tvb(o + 12, n - 28), n - 28)
  if n > 28 then tree:add(f.ciphertext, tvb(o + 12, n - 28)) end
  tree:add(f.tag, tvb(o + n - 16, 16))
end

local function value(t, tvb, o, n, tree, pinfo, root)
  local e = o + n
  if t == 174 then envelope(tvb, o, n, tree)
  elseif t == 160 then
    local v = octet_string(tvb, o, e)
    if v then tree:add(f.eap, v) if eap then eap:call(v:tvb(), pinfo, root) end end
  elseif t == 161 or t == 163 or t == 164 or t == 167 then
    local v = octet_string(tvb, o, e)
    if v then tree:add(f.octets, v) end
  elseif t == 170 and n == 32 then tree:add(f.nonce, tvb(o, 32))
  elseif t == 171 and n == 1 then tree:add(f.suite, tvb(o, 1))
  elseif t == 172 and n == 4 then tree:add(f.sa_id, tvb(o, 4))
  elseif t == 173 and n == 16 then tree:add(f.auth, tvb(o, 16))
  elseif (t == 165 or t == 168) and n == 4 then tree:add(f.u32, tvb(o, 4))
  elseif t == 166 and n == 8 then tree:add(f.u64, tvb(o, 8))
  elseif t == 169 and n >= 2 then
    local bits = tvb(o, 1):uint()
    tree:add(f.modes, tvb(o, 1))
    for i, name in ipairs(MODES) do
      if bit.band(bits, bit.lshift(1, i - 1)) ~= 0 then tree:add(f.mode, tvb(o, 1), name) end
    end
    local cnt, s = tlv_len(tvb, o + 1)
    if cnt and o + 1 + s + cnt <= e then
      for i = 0, cnt - 1 do tree:add(f.offer, tvb(o + 1 + s + i, 1)) end
    end
  elseif n > 0 then tree:add(f.octets, tvb(o, n))
  end
end

function p.dissector(tvb, pinfo, root)
  if mih then mih:call(tvb, pinfo, root) end
  if tvb:len() < 8 then return end
  local tree = root:add(p, tvb(), "MIH 802.21a (mihsec, provisional)")
  tree:add(f.p_bit, tvb(4, 1))
  tree:add(f.protected, tvb(4, 1))
  local mid = tvb(2, 2):uint()
  local aid, op = bit.band(mid, 0x3FF), bit.band(bit.rshift(mid, 10), 3)
  if bit.rshift(mid, 12) == 1 and ACTIONS[aid] then
    tree:add(f.action, tvb(2, 2), ACTIONS[aid] .. "." .. OPCODES[op])
    pinfo.cols.info:append(" " .. ACTIONS[aid] .. "." .. OPCODES[op])
  end
  if bit.band(tvb(4, 1):uint(), 0x40) ~= 0 then pinfo.cols.info:append(" [protected]") end
  if bit.band(tvb(1, 1):uint(), 0xFE) ~= 0 or bit.band(tvb(0, 1):uint(), 1) ~= 0 then return end  -- fragment
  local o, stop = 8, math.min(tvb:len(), 8 + tvb(6, 2):uint())
  while o + 1 < stop do
    local t = tvb(o, 1):uint()
    local n, s = tlv_len(tvb, o + 1)
    if n == nil or o + 1 + s + n > stop then
      tree:add_expert_info(PI_MALFORMED, PI_ERROR, "TLV runs past the payload")
      return
    end
    if TLV_NAMES[t] then
      local sub = tree:add(p, tvb(o, 1 + s + n), "TLV " .. t .. ": " .. TLV_NAMES[t])
      sub:add(f.tlv_type, tvb(o, 1))
      sub:add(f.tlv_length, tvb(o + 1, s), n)
      value(t, tvb, o + 1 + s, n, sub, pinfo, root)
    end
    o = o + 1 + s + n
  end
end

udp_port:add(4551, p)
ethertype:add(0x8917, p)
