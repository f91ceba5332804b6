/* ap-avs sandbox `crypto` (ours, not vendored): getRandomValues and randomUUID.
 *
 * The sandbox has no host hook, so the bytes come from ChaCha20 (RFC 8439, 20 rounds) keyed
 * with the 32 bytes of OS randomness (os.urandom) that the worker passes in `shared.seed` for
 * every evaluation, nonce `shared.nonce` (zero unless a test sets it), block counter from
 * `shared.counter` (0). Math.random is QuickJS's own xorshift seeded from the clock: never use
 * it for anything secret. Loaded on first use of `crypto`.
 */
'use strict';
var state = new Uint32Array(16), work = new Uint32Array(16), block = new Uint8Array(64);
var used = 64, keyed = false;

function word(hex, i) {
  // little-endian 32-bit word i of a hex byte string
  var w = 0;
  for (var b = 3; b >= 0; b--) w = w * 256 + parseInt(hex.slice(8 * i + 2 * b, 8 * i + 2 * b + 2), 16);
  return w;
}

function rotl(v, c) { return (v << c) | (v >>> (32 - c)); }

function quarter(x, a, b, c, d) {
  x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 16);
  x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 12);
  x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 8);
  x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 7);
}

function refill() {
  if (!keyed) {
    if (!/^[0-9a-f]{64}$/.test(shared.seed)) throw new Error('crypto: the sandbox has no seed');
    state.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
    for (var k = 0; k < 8; k++) state[4 + k] = word(shared.seed, k);
    state[12] = shared.counter || 0;
    for (var n = 0; n < 3; n++) state[13 + n] = shared.nonce ? word(shared.nonce, n) : 0;
    keyed = true;
  }
  work.set(state);
  for (var r = 0; r < 10; r++) {
    quarter(work, 0, 4, 8, 12); quarter(work, 1, 5, 9, 13);
    quarter(work, 2, 6, 10, 14); quarter(work, 3, 7, 11, 15);
    quarter(work, 0, 5, 10, 15); quarter(work, 1, 6, 11, 12);
    quarter(work, 2, 7, 8, 13); quarter(work, 3, 4, 9, 14);
  }
  for (var i = 0; i < 16; i++) {
    var v = (work[i] + state[i]) >>> 0;
    block[4 * i] = v & 255; block[4 * i + 1] = (v >>> 8) & 255;
    block[4 * i + 2] = (v >>> 16) & 255; block[4 * i + 3] = v >>> 24;
  }
  state[12] += 1;
  used = 0;
}

function getRandomValues(array) {
  if (!ArrayBuffer.isView(array) || array instanceof DataView || array instanceof Float32Array ||
      array instanceof Float64Array) {
    throw new TypeError('crypto.getRandomValues: the argument must be an integer typed array');
  }
  if (array.byteLength > 65536) {
    throw new RangeError('crypto.getRandomValues: at most 65536 bytes per call');
  }
  var bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (var i = 0; i < bytes.length; i++) {
    if (used === 64) refill();
    bytes[i] = block[used++];
  }
  return array;
}

function randomUUID() {
  var b = getRandomValues(new Uint8Array(16)), s = '';
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  for (var i = 0; i < 16; i++) {
    s += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + (b[i] + 0x100).toString(16).slice(1);
  }
  return s;
}

module.exports = { getRandomValues: getRandomValues, randomUUID: randomUUID };
