/* Balai offline document verifier.
 *
 * Mirrors balai/documents/payload.py and verify.py (docs/decisions/0007):
 * reads the QR payload, checks the Ed25519 signature against the certified
 * node keys, the key revocations and the signed revocation list embedded in
 * this page. No network. Ed25519 through WebCrypto where the browser has it,
 * else through the small BigInt implementation below (RFC 8032, written for
 * Balai), with SHA-512 likewise.
 */
(function () {
  "use strict";

  var DOMAIN = {
    doc: "balai-document-v1\n",
    cert: "balai-key-certificate-v1\n",
    keyrev: "balai-key-revocation-v1\n",
    list: "balai-revocation-list-v1\n",
  };
  var KIND_CODES = { 1: "receipt", 2: "sktm", 3: "domisili", 4: "usaha", 5: "pengantar", 6: "completion" };
  var KIND_LABELS = {
    receipt: "Tanda Terima",
    sktm: "Surat Keterangan Tidak Mampu",
    domisili: "Surat Keterangan Domisili",
    usaha: "Surat Keterangan Usaha",
    pengantar: "Surat Pengantar",
    completion: "Bukti Penyelesaian Layanan",
  };
  var REASONS = {
    not_text: "Isi QR harus berupa teks.",
    too_long: "Teks terlalu panjang untuk QR dokumen Balai.",
    empty: "Teks QR kosong.",
    bad_encoding: "Teks ini bukan QR dokumen Balai (pengodean salah).",
    truncated: "Teks QR terpotong atau tidak lengkap.",
    version: "Versi QR tidak dikenal.",
    kind_unknown: "Jenis dokumen dalam QR tidak dikenal.",
    bad_text: "Teks dalam QR tidak sah.",
    trailing: "QR memuat data tambahan yang tidak dikenal.",
    bad_nik: "NIK dalam QR tidak sah.",
    bad_date: "Tanggal dalam QR tidak sah.",
    no_trust_anchor: "Verifikator belum memiliki kunci akar kabupaten.",
    unknown_key: "Kunci penanda tangan tidak bersertifikat dari kabupaten.",
    bad_signature: "Tanda tangan tidak cocok: isi QR telah diubah atau dipalsukan.",
    outside_validity: "Ditandatangani di luar masa berlaku sertifikat kunci.",
    future: "Waktu tanda tangan ada di masa depan.",
    unknown_office: "Kantor penerbit tidak dikenal.",
    wrong_node: "Kunci node ini tidak berwenang untuk kantor ini.",
    key_revoked: "Ditandatangani setelah kunci penanda tangan dicabut.",
    revoked: "Dokumen ini telah dicabut oleh penerbitnya.",
    valid: "Dokumen sah: ditandatangani oleh kunci resmi kabupaten.",
    error: "QR tidak dapat diperiksa.",
  };
  var MAX_TEXT = 2048;
  var HEADER_SIZE = 16;
  var SIG = 64;
  var MIN_BYTES = HEADER_SIZE + 3 + SIG;
  var CLOCK_SKEW = 86400;
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var utf8 = new TextEncoder();

  function Fail(code) { this.code = code; }

  // --- bytes ----------------------------------------------------------------------
  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }
  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return s;
  }
  function b64(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b32decode(text) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      value = (value << 5) | B32.indexOf(text[i]);
      bits += 5;
      if (bits >= 8) {
        out.push((value >>> (bits - 8)) & 255);
        bits -= 8;
      }
      value &= (1 << bits) - 1;
    }
    return new Uint8Array(out);
  }
  function b32encode(bytes) {
    var bits = 0, value = 0, out = "";
    for (var i = 0; i < bytes.length; i++) {
      value = (value << 8) | bytes[i];
      bits += 8;
      while (bits >= 5) {
        out += B32[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
      value &= (1 << bits) - 1;
    }
    if (bits > 0) out += B32[(value << (5 - bits)) & 31];
    return out;
  }
  function leInt(bytes) {
    var n = 0n;
    for (var i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
    return n;
  }
  function parseUtc(text) {
    if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) {
      throw new Error("bad time");
    }
    var ms = Date.parse(text);
    if (isNaN(ms)) throw new Error("bad time");
    return ms / 1000;
  }
  function utcText(seconds) {
    return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
  }

  // --- SHA-512 (FIPS 180-4), BigInt ---------------------------------------------
  var MASK = (1n << 64n) - 1n;
  // floor(n ** (1/k)) by Newton's method, from above.
  function iroot(n, k) {
    var big = BigInt(k);
    var x = 1n << BigInt(Math.ceil(n.toString(2).length / k));
    for (;;) {
      var y = ((big - 1n) * x + n / x ** (big - 1n)) / big;
      if (y >= x) return x;
      x = y;
    }
  }
  var SHA_K = [], SHA_H = [];
  (function () {
    var primes = [], n = 2;
    while (primes.length < 80) {
      if (primes.every(function (p) { return n % p !== 0; })) primes.push(n);
      n++;
    }
    primes.forEach(function (p, i) {
      SHA_K.push(iroot(BigInt(p) << 192n, 3) & MASK);
      if (i < 8) SHA_H.push(iroot(BigInt(p) << 128n, 2) & MASK);
    });
  })();
  function rotr(x, n) { return ((x >> n) | (x << (64n - n))) & MASK; }
  function sha512js(message) {
    var length = message.length;
    var padded = new Uint8Array(Math.ceil((length + 17) / 128) * 128);
    padded.set(message);
    padded[length] = 0x80;
    var bitLength = BigInt(length) * 8n;
    for (var i = 0; i < 16; i++) {
      padded[padded.length - 1 - i] = Number((bitLength >> BigInt(8 * i)) & 255n);
    }
    var h = SHA_H.slice();
    var w = new Array(80);
    for (var block = 0; block < padded.length; block += 128) {
      for (var t = 0; t < 16; t++) {
        var word = 0n;
        for (var j = 0; j < 8; j++) word = (word << 8n) | BigInt(padded[block + t * 8 + j]);
        w[t] = word;
      }
      for (t = 16; t < 80; t++) {
        var s0 = rotr(w[t - 15], 1n) ^ rotr(w[t - 15], 8n) ^ (w[t - 15] >> 7n);
        var s1 = rotr(w[t - 2], 19n) ^ rotr(w[t - 2], 61n) ^ (w[t - 2] >> 6n);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) & MASK;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (t = 0; t < 80; t++) {
        var S1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n);
        var ch = (e & f) ^ (~e & MASK & g);
        var t1 = (hh + S1 + ch + SHA_K[t] + w[t]) & MASK;
        var S0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n);
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var t2 = (S0 + maj) & MASK;
        hh = g; g = f; f = e; e = (d + t1) & MASK;
        d = c; c = b; b = a; a = (t1 + t2) & MASK;
      }
      h = [a, b, c, d, e, f, g, hh].map(function (v, k) { return (h[k] + v) & MASK; });
    }
    var out = new Uint8Array(64);
    h.forEach(function (v, k) {
      for (var j = 0; j < 8; j++) out[k * 8 + j] = Number((v >> BigInt(56 - 8 * j)) & 255n);
    });
    return out;
  }

  // --- Ed25519 verification (RFC 8032 section 5.1.7), BigInt --------------------
  var P = (1n << 255n) - 19n;
  var L = (1n << 252n) + 27742317777372353535851937790883648493n;
  function mod(a) { var r = a % P; return r < 0n ? r + P : r; }
  function power(base, exp) {
    var result = 1n;
    base = mod(base);
    while (exp > 0n) {
      if (exp & 1n) result = (result * base) % P;
      base = (base * base) % P;
      exp >>= 1n;
    }
    return result;
  }
  function inv(x) { return power(x, P - 2n); }
  var D = mod(-121665n * inv(121666n));
  var SQRT_M1 = power(2n, (P - 1n) / 4n);
  function add(p1, p2) {
    var A = mod((p1[1] - p1[0]) * (p2[1] - p2[0]));
    var B = mod((p1[1] + p1[0]) * (p2[1] + p2[0]));
    var C = mod(2n * p1[3] * p2[3] * D);
    var Dd = mod(2n * p1[2] * p2[2]);
    var E = B - A, F = Dd - C, G = Dd + C, H = B + A;
    return [mod(E * F), mod(G * H), mod(F * G), mod(E * H)];
  }
  function multiply(scalar, point) {
    var result = [0n, 1n, 1n, 0n];
    for (var i = BigInt(scalar.toString(2).length) - 1n; i >= 0n; i--) {
      result = add(result, result);
      if ((scalar >> i) & 1n) result = add(result, point);
    }
    return result;
  }
  function decodePoint(bytes) {
    if (bytes.length !== 32) return null;
    var copy = bytes.slice();
    var sign = copy[31] >> 7;
    copy[31] &= 127;
    var y = leInt(copy);
    if (y >= P) return null;
    var y2 = mod(y * y);
    var x2 = mod((y2 - 1n) * inv(mod(D * y2 + 1n)));
    var x = power(x2, (P + 3n) / 8n);
    if (mod(x * x - x2) !== 0n) x = mod(x * SQRT_M1);
    if (mod(x * x - x2) !== 0n) return null;
    if (x === 0n && sign === 1) return null;
    if (Number(x & 1n) !== sign) x = P - x;
    return [x, y, 1n, mod(x * y)];
  }
  function encodePoint(point) {
    var zi = inv(point[2]);
    var x = mod(point[0] * zi), y = mod(point[1] * zi);
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) {
      out[i] = Number((y >> BigInt(8 * i)) & 255n);
    }
    out[31] |= Number(x & 1n) << 7;
    return out;
  }
  var BASE = (function () {
    var y = mod(4n * inv(5n));
    var bytes = new Uint8Array(32);
    for (var i = 0; i < 32; i++) bytes[i] = Number((y >> BigInt(8 * i)) & 255n);
    return decodePoint(bytes);
  })();
  function ed25519VerifyJs(publicKey, signature, message) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    var A = decodePoint(publicKey);
    if (A === null) return false;
    var R = signature.slice(0, 32);
    var S = leInt(signature.slice(32));
    if (S >= L) return false;
    var k = leInt(sha512js(concat(concat(R, publicKey), message))) % L;
    var minusA = [mod(-A[0]), A[1], A[2], mod(-A[3])];
    var check = add(multiply(S, BASE), multiply(k, minusA));
    var encoded = encodePoint(check);
    for (var i = 0; i < 32; i++) if (encoded[i] !== R[i]) return false;
    return true;
  }

  // --- engine: WebCrypto when it works, else the code above ----------------------
  var RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  var RFC_SIGNATURE =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
  function fromHex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  var engine = { name: "js", verify: null, sha512: null };
  async function webcryptoVerify(publicKey, signature, message) {
    try {
      var key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (e) {
      return false;
    }
  }
  async function chooseEngine(forceJs) {
    engine.sha512 = async function (data) { return sha512js(data); };
    engine.verify = async function (k, s, m) { return ed25519VerifyJs(k, s, m); };
    engine.name = "js";
    if (forceJs || !(window.crypto && crypto.subtle)) return;
    try {
      var ok = await webcryptoVerify(fromHex(RFC_PUBLIC), fromHex(RFC_SIGNATURE), new Uint8Array(0));
      var bad = await webcryptoVerify(fromHex(RFC_PUBLIC), fromHex(RFC_SIGNATURE), new Uint8Array(1));
      if (ok && !bad) {
        engine.verify = webcryptoVerify;
        engine.sha512 = async function (data) {
          return new Uint8Array(await crypto.subtle.digest("SHA-512", data));
        };
        engine.name = "webcrypto";
      }
    } catch (e) {
      /* keep the JavaScript engine */
    }
  }

  // --- trust ----------------------------------------------------------------------
  var trust = { root: null, certs: {}, keyRevocations: {}, docRevocations: {}, offices: {}, list: null };

  async function signedBy(publicKey, domain, text, signature) {
    try {
      return await engine.verify(publicKey, b64(signature), concat(utf8.encode(domain), utf8.encode(text)));
    } catch (e) {
      return false;
    }
  }

  async function loadTrust(bundle) {
    trust.root = b64(bundle.root_public_key);
    trust.offices = bundle.offices || {};
    for (var i = 0; i < (bundle.certificates || []).length; i++) {
      var item = bundle.certificates[i];
      if (!(await signedBy(trust.root, DOMAIN.cert, item.certificate, item.signature))) continue;
      var body = JSON.parse(item.certificate);
      var publicKey = b64(body.public_key);
      if (publicKey.length !== 32) continue;
      if (hex((await engine.sha512(publicKey)).slice(0, 4)) !== body.key_id) continue;
      trust.certs[body.key_id] = {
        keyId: body.key_id,
        node: body.node,
        publicKey: publicKey,
        notBefore: parseUtc(body.not_before),
        notAfter: parseUtc(body.not_after),
      };
    }
    async function addKeyRevocation(item) {
      if (!(await signedBy(trust.root, DOMAIN.keyrev, item.statement, item.signature))) return;
      var body = JSON.parse(item.statement);
      if (!(body.key_id in trust.keyRevocations)) {
        trust.keyRevocations[body.key_id] = { at: parseUtc(body.revoked_at), reason: body.reason };
      }
    }
    for (i = 0; i < (bundle.key_revocations || []).length; i++) await addKeyRevocation(bundle.key_revocations[i]);
    var wrapper = bundle.revocation_list;
    if (wrapper) {
      var listBody = JSON.parse(wrapper.list);
      var issuedAt = parseUtc(listBody.issued_at);
      var signerKey = null;
      if (wrapper.signer === "root") {
        signerKey = trust.root;
      } else {
        var cert = trust.certs[wrapper.signer];
        var revoked = trust.keyRevocations[wrapper.signer];
        if (cert && cert.node === "regency" && cert.notBefore <= issuedAt && issuedAt <= cert.notAfter &&
            !(revoked && revoked.at <= issuedAt)) {
          signerKey = cert.publicKey;
        }
      }
      if (signerKey && (await signedBy(signerKey, DOMAIN.list, wrapper.list, wrapper.signature))) {
        listBody.documents.forEach(function (d) {
          trust.docRevocations[d.digest] = { at: parseUtc(d.revoked_at), reason: d.reason };
        });
        for (i = 0; i < listBody.keys.length; i++) await addKeyRevocation(listBody.keys[i]);
        trust.list = { seq: listBody.seq, issuedAt: issuedAt };
      }
    }
  }

  // --- the payload ----------------------------------------------------------------
  function extractPayload(text) {
    if (typeof text !== "string") throw new Fail("not_text");
    if (text.length > MAX_TEXT) throw new Fail("too_long");
    var compact = text.replace(/[ \t\n\r\f\v]+/g, "");
    if (!compact) throw new Fail("empty");
    if (!/^[\x00-\x7f]*$/.test(compact)) throw new Fail("bad_encoding");
    var upper = compact.toUpperCase();
    var cut = upper.lastIndexOf("/V/");
    if (cut >= 0) upper = upper.slice(cut + 3);
    if (!upper || !/^[A-Z2-7]+$/.test(upper)) throw new Fail("bad_encoding");
    return upper;
  }
  function printable(text) {
    for (var ch of text) {
      var c = ch.codePointAt(0);
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    }
    return true;
  }
  function decode(text) {
    var payload = extractPayload(text);
    if ([1, 3, 6].indexOf(payload.length % 8) >= 0) throw new Fail("truncated");
    var raw = b32decode(payload);
    if (b32encode(raw) !== payload) throw new Fail("bad_encoding");
    if (raw.length < MIN_BYTES) throw new Fail("truncated");
    var body = raw.slice(0, raw.length - SIG);
    var signature = raw.slice(raw.length - SIG);
    var view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    var version = view.getUint8(0);
    var kindByte = view.getUint8(1);
    var days = view.getUint16(2);
    var seconds = view.getUint32(4);
    var keyId = hex(body.slice(8, 12));
    var head = view.getUint16(12);
    var tail = view.getUint16(14);
    if (version !== 1) throw new Fail("version");
    var kind = KIND_CODES[kindByte & 0x7f];
    if (!kind) throw new Fail("kind_unknown");
    var strings = [];
    var pos = HEADER_SIZE;
    var decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    for (var f = 0; f < 3; f++) {
      if (pos >= body.length) throw new Fail("truncated");
      var size = body[pos];
      var chunk = body.slice(pos + 1, pos + 1 + size);
      if (chunk.length !== size || size === 0) throw new Fail("truncated");
      var value;
      try {
        value = decoder.decode(chunk);
      } catch (e) {
        throw new Fail("bad_text");
      }
      if (!printable(value)) throw new Fail("bad_text");
      strings.push(value);
      pos += 1 + size;
    }
    if (pos !== body.length) throw new Fail("trailing");
    if (!/^[\x00-\x7f]*$/.test(strings[0]) || !/^[\x00-\x7f]*$/.test(strings[1])) throw new Fail("bad_text");
    var none = 0xffff;
    if ((head === none) !== (tail === none) || (head !== none && (head > 9999 || tail > 9999))) {
      throw new Fail("bad_nik");
    }
    if (days === 0 || seconds === 0) throw new Fail("bad_date");
    function pad4(n) { return ("000" + n).slice(-4); }
    var date = new Date(Date.UTC(2000, 0, 1) + days * 86400000).toISOString().slice(0, 10);
    return {
      body: body,
      signature: signature,
      facts: {
        kind: kind,
        kind_label: KIND_LABELS[kind],
        number: strings[0],
        name: strings[2],
        name_truncated: Boolean(kindByte & 0x80),
        nik_masked: head === none ? "" : pad4(head) + "********" + pad4(tail),
        date: date,
        office_code: strings[1],
        key_id: keyId,
        signed_at: utcText(seconds),
      },
      signedAt: seconds,
    };
  }

  function verdict(status, code, extra) {
    var out = { status: status, code: code, reason: REASONS[code] || code, facts: null, node: "",
      digest: "", revoked_at: null, revocation_reason: "",
      revocation_list_issued_at: trust.list ? utcText(trust.list.issuedAt) : null };
    for (var key in extra || {}) out[key] = extra[key];
    return out;
  }

  async function verify(text) {
    var parsed;
    try {
      parsed = decode(text);
    } catch (e) {
      if (e instanceof Fail) return verdict("invalid", e.code);
      return verdict("invalid", "bad_encoding");
    }
    try {
      var facts = parsed.facts;
      var office = trust.offices[facts.office_code];
      if (office) facts.office_name = office[1];
      var common = { digest: hex((await engine.sha512(parsed.body)).slice(0, 16)) };
      if (!trust.root) return verdict("invalid", "no_trust_anchor", common);
      var cert = trust.certs[facts.key_id];
      if (!cert) return verdict("invalid", "unknown_key", common);
      common.node = cert.node;
      var message = concat(utf8.encode(DOMAIN.doc), parsed.body);
      if (!(await engine.verify(cert.publicKey, parsed.signature, message))) {
        return verdict("invalid", "bad_signature", common);
      }
      common.facts = facts;
      var at = parsed.signedAt;
      if (at < cert.notBefore || at > cert.notAfter) return verdict("invalid", "outside_validity", common);
      if (at > Date.now() / 1000 + CLOCK_SKEW) return verdict("invalid", "future", common);
      if (!office) return verdict("invalid", "unknown_office", common);
      var region = office[0];
      if (cert.node !== "regency" && region !== cert.node && region.indexOf(cert.node + ".") !== 0) {
        return verdict("invalid", "wrong_node", common);
      }
      var keyRevocation = trust.keyRevocations[facts.key_id];
      if (keyRevocation && at >= keyRevocation.at) {
        common.revoked_at = utcText(keyRevocation.at);
        common.revocation_reason = keyRevocation.reason;
        return verdict("invalid", "key_revoked", common);
      }
      var revocation = trust.docRevocations[common.digest];
      if (revocation) {
        common.revoked_at = utcText(revocation.at);
        common.revocation_reason = revocation.reason;
        return verdict("revoked", "revoked", common);
      }
      return verdict("valid", "valid", common);
    } catch (e) {
      return verdict("invalid", "error");
    }
  }

  // --- the page -------------------------------------------------------------------
  var MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
    "September", "Oktober", "November", "Desember"];
  function wita(seconds) {
    var d = new Date((seconds + 8 * 3600) * 1000);
    var two = function (n) { return ("0" + n).slice(-2); };
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + " " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " WITA";
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function show(result) {
    var box = document.getElementById("result");
    box.replaceChildren();
    box.className = "verdict verdict-" + result.status;
    box.dataset.status = result.status;
    box.dataset.code = result.code;
    var words = { valid: "SAH", revoked: "DICABUT", invalid: "TIDAK SAH" };
    box.appendChild(el("h2", words[result.status]));
    box.appendChild(el("p", result.reason));
    if (result.revoked_at) {
      box.appendChild(el("p", "Dicabut pada " + wita(parseUtc(result.revoked_at)) +
        (result.revocation_reason ? ": " + result.revocation_reason : "")));
    }
    if (result.facts) {
      var f = result.facts;
      var dl = el("dl", undefined, "facts");
      [["Jenis dokumen", f.kind_label], ["Nomor", f.number],
       ["Nama", f.name + (f.name_truncated ? " (dipendekkan dalam QR)" : "")],
       ["NIK", f.nik_masked || "—"], ["Tanggal surat", f.date],
       ["Kantor penerbit", (f.office_name ? f.office_name + " " : "") + "(" + f.office_code + ")"],
       ["Ditandatangani", wita(parseUtc(f.signed_at))],
       ["Kunci", f.key_id + (result.node ? " · node " + result.node : "")]].forEach(function (row) {
        dl.appendChild(el("dt", row[0]));
        dl.appendChild(el("dd", row[1]));
      });
      box.appendChild(dl);
    }
    box.appendChild(el("p", "Kode: " + result.code, "hint"));
  }

  var params = new URLSearchParams(location.search);
  var ready = (async function () {
    await chooseEngine(params.get("engine") === "js");
    var bundle = JSON.parse(document.getElementById("trust-data").textContent);
    await loadTrust(bundle);
    document.getElementById("engine").textContent = engine.name === "webcrypto" ? "WebCrypto" : "JavaScript";
    document.getElementById("list-date").textContent = trust.list
      ? wita(trust.list.issuedAt) + " (nomor " + trust.list.seq + ")"
      : "tidak ada daftar pencabutan dalam berkas ini";
    document.body.dataset.ready = "1";
  })();

  window.balaiVerifier = {
    ready: ready,
    verify: async function (text) { await ready; return verify(text); },
    engine: function () { return engine.name; },
    listIssuedAt: function () { return trust.list ? utcText(trust.list.issuedAt) : null; },
    sha512: function (bytes) { return sha512js(bytes); },
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("form");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      show(await window.balaiVerifier.verify(document.getElementById("qr").value));
    });
    var fromHash = decodeURIComponent(location.hash.slice(1));
    if (fromHash) {
      document.getElementById("qr").value = fromHash;
      window.balaiVerifier.verify(fromHash).then(show);
    }
  });
})();
