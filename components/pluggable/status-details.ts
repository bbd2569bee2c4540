// Reads the rich error details a component attaches to a gRPC status
// (grpc-status-details-bin: a google.rpc.Status whose details hold a google.rpc.BadRequest).
// Dapr's protocol reports ETag problems that way: a field violation on the field "etag".
// Only those two small messages are needed, so they are decoded here by hand rather than
// adding the googleapis .proto files.

interface Field {
  number: number;
  wire: number;
  value: Buffer | number;
}

function* fields(buffer: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (at >= buffer.length) throw new Error('truncated varint');
      const byte = buffer[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (at < buffer.length) {
    const tag = varint();
    const number = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) yield { number, wire, value: varint() };
    else if (wire === 2) {
      const length = varint();
      if (at + length > buffer.length) throw new Error('truncated field');
      yield { number, wire, value: buffer.subarray(at, at + length) };
      at += length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

export interface FieldViolation {
  field: string;
  description: string;
}

const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

/** The BadRequest field violations in a grpc-status-details-bin value; [] when there are none or it cannot be read. */
export function fieldViolations(statusDetails: Buffer | undefined): FieldViolation[] {
  if (!statusDetails) return [];
  const out: FieldViolation[] = [];
  try {
    for (const detail of fields(statusDetails)) {
      if (detail.number !== 3 || !(detail.value instanceof Buffer)) continue; // Status.details (Any)
      let typeUrl = '';
      let value: Buffer | undefined;
      for (const f of fields(detail.value)) {
        if (f.number === 1 && f.value instanceof Buffer) typeUrl = f.value.toString('utf8');
        if (f.number === 2 && f.value instanceof Buffer) value = f.value;
      }
      if (typeUrl !== BAD_REQUEST || !value) continue;
      for (const violation of fields(value)) {
        if (violation.number !== 1 || !(violation.value instanceof Buffer)) continue;
        const v: FieldViolation = { field: '', description: '' };
        for (const f of fields(violation.value)) {
          if (f.number === 1 && f.value instanceof Buffer) v.field = f.value.toString('utf8');
          if (f.number === 2 && f.value instanceof Buffer) v.description = f.value.toString('utf8');
        }
        out.push(v);
      }
    }
  } catch {
    return [];
  }
  return out;
}
