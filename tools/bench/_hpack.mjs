// HPACK (RFC 7541) for the benchmarks' lean gRPC client: the static table (Appendix A),
// the Huffman code (Appendix B), a decoder with the dynamic table, and a plain encoder.

/** Appendix A: index 1..61 (entry 0 is unused). */
const STATIC_TABLE = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Appendix B: the code of symbol i (256 is EOS) and its length in bits. */
const HUFFMAN_CODES = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
  0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
  0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
  0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
  0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
  0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
];
const HUFFMAN_BITS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

/** A binary tree over the Huffman code: node = [child0, child1], leaf = symbol number. */
const HUFFMAN_TREE = (() => {
  const tree = [undefined, undefined];
  HUFFMAN_CODES.forEach((code, symbol) => {
    let node = tree;
    for (let bit = HUFFMAN_BITS[symbol] - 1; bit > 0; bit--) {
      const b = (code >>> bit) & 1;
      node = node[b] ??= [undefined, undefined];
    }
    node[code & 1] = symbol;
  });
  return tree;
})();

function huffmanDecode(bytes) {
  const out = [];
  let node = HUFFMAN_TREE;
  let depth = 0;
  let ones = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      const next = node[b];
      if (next === undefined) throw new Error('HPACK: invalid Huffman code');
      depth++;
      ones &&= b === 1;
      if (typeof next === 'number') {
        if (next === 256) throw new Error('HPACK: EOS in a Huffman string');
        out.push(next);
        node = HUFFMAN_TREE;
        depth = 0;
        ones = true;
      } else node = next;
    }
  }
  // Padding is the most significant bits of EOS (all ones), shorter than 8 bits (5.2).
  if (depth > 7 || !ones) throw new Error('HPACK: invalid Huffman padding');
  return Buffer.from(out).toString('latin1');
}

/** Decodes header blocks in order, keeping the dynamic table between them (one decoder per connection). */
export class HpackDecoder {
  #dynamic = [];
  #size = 0;
  #maxSize = 4096;

  /** One complete header block (HEADERS plus any CONTINUATION payloads) to [name, value] pairs. */
  decode(block) {
    const headers = [];
    let pos = 0;
    const integer = (prefixBits) => {
      const max = (1 << prefixBits) - 1;
      let value = block[pos++] & max;
      if (value < max) return value;
      for (let shift = 0; ; shift += 7) {
        if (pos >= block.length) throw new Error('HPACK: truncated integer');
        const b = block[pos++];
        value += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return value;
      }
    };
    const string = () => {
      const huffman = (block[pos] & 0x80) !== 0;
      const length = integer(7);
      if (pos + length > block.length) throw new Error('HPACK: truncated string');
      const raw = block.subarray(pos, (pos += length));
      return huffman ? huffmanDecode(raw) : raw.toString('latin1');
    };
    const entry = (index) => {
      if (index > 0 && index < STATIC_TABLE.length) return STATIC_TABLE[index];
      const dynamic = this.#dynamic[index - STATIC_TABLE.length];
      if (!dynamic) throw new Error(`HPACK: no table entry ${index}`);
      return dynamic;
    };
    while (pos < block.length) {
      const b = block[pos];
      if (b & 0x80) {
        headers.push(entry(integer(7)));
      } else if (b & 0x40) {
        const index = integer(6);
        const header = [index ? entry(index)[0] : string(), ''];
        header[1] = string();
        headers.push(header);
        this.#add(header);
      } else if (b & 0x20) {
        this.#maxSize = integer(5);
        this.#evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001): both have a 4-bit name index.
        const index = integer(4);
        const header = [index ? entry(index)[0] : string(), ''];
        header[1] = string();
        headers.push(header);
      }
    }
    return headers;
  }

  #add([name, value]) {
    const size = name.length + value.length + 32;
    this.#evict(size);
    if (size > this.#maxSize) return;
    this.#dynamic.unshift([name, value]);
    this.#size += size;
  }

  #evict(incoming) {
    while (this.#dynamic.length && this.#size + incoming > this.#maxSize) {
      const [name, value] = this.#dynamic.pop();
      this.#size -= name.length + value.length + 32;
    }
  }
}

/** Encodes headers as literals without indexing and without Huffman: the same bytes every time, so a block can be reused. */
export function hpackEncode(headers) {
  const parts = [];
  const integer = (value, prefixBits, flags) => {
    const max = (1 << prefixBits) - 1;
    if (value < max) return parts.push(flags | value);
    parts.push(flags | max);
    for (value -= max; value >= 0x80; value = Math.floor(value / 0x80)) parts.push((value % 0x80) | 0x80);
    parts.push(value);
  };
  const string = (s) => {
    const bytes = Buffer.from(s, 'latin1');
    integer(bytes.length, 7, 0);
    parts.push(...bytes);
  };
  for (const [name, value] of headers) {
    const exact = STATIC_TABLE.findIndex(([n, v], i) => i > 0 && n === name && v === value);
    if (exact > 0) {
      integer(exact, 7, 0x80);
      continue;
    }
    const named = STATIC_TABLE.findIndex(([n], i) => i > 0 && n === name);
    integer(Math.max(0, named), 4, 0);
    if (named <= 0) string(name);
    string(value);
  }
  return Buffer.from(parts);
}
