// A zip archive of files as they are (stored, no compression): how the page sends a
// folder that holds binary files (images, a seeded SQLite database), which the JSON
// upload of `{path: text}` cannot carry. The service reads it as any uploaded zip,
// checking each member's size and CRC-32 against its data.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const UTF8_NAMES = 0x0800; // general purpose flag: the names are UTF-8
const DOS_DATE = (1 << 5) | 1; // 1980-01-01: no clock of the user's in the archive

/** The fields a member's local header and its central record share, from `at`:
 * version needed, flags, method (stored), time, date, CRC-32, both sizes, name length
 * (the extra field's length after them: 0). */
function memberFields(view, at, crc, size, nameLength) {
  view.setUint16(at, 20, true); // version needed: 2.0
  view.setUint16(at + 2, UTF8_NAMES, true);
  view.setUint16(at + 4, 0, true); // stored
  view.setUint16(at + 6, 0, true); // time
  view.setUint16(at + 8, DOS_DATE, true);
  view.setUint32(at + 10, crc, true);
  view.setUint32(at + 14, size, true);
  view.setUint32(at + 18, size, true);
  view.setUint16(at + 22, nameLength, true);
}

/** A zip (a `Blob`) of `entries`, `[[path, Uint8Array]]` in order. Throws past what a
 * plain zip holds (65,535 members, 4 GiB): the service's own limits are far below. */
export function zipStored(entries) {
  if (entries.length > 0xffff) throw new Error('too many files for one upload');
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  for (const [path, data] of entries) {
    const name = encoder.encode(path);
    const crc = crc32(data);
    if (offset + data.length > 0xffffffff) throw new Error('the folder is too large for one upload');
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    memberFields(local, 4, crc, data.length, name.length);
    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, 20, true); // made by: 2.0
    memberFields(record, 6, crc, data.length, name.length);
    record.setUint32(42, offset, true); // (comment, disk, attributes: 0)
    parts.push(local, name, data);
    central.push(record, name);
    offset += 30 + name.length + data.length;
  }
  const size = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: 'application/zip' });
}
