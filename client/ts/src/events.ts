// The program's events, decoded. Codama generates no event decoders, so they are read here from
// the program's Anchor IDL (client/idl/tessera.json: `events` and their `types`), which keeps
// them in step with the program; client/fixtures/web.json holds events encoded by the program's
// own types, and the tests decode them.
//
// The program emits its events with Anchor's `emit_cpi!`: a self-invocation signed by the event
// authority whose instruction data is `EVENT_IX_TAG ‖ event discriminator ‖ borsh fields`. Find
// them in a transaction's inner instructions (`getTransaction`) with `decodeEventInstruction`.
import { getBase58Decoder, type ReadonlyUint8Array } from '@solana/kit';

/** Anchor's tag of an event self-invocation (`anchor_lang::event::EVENT_IX_TAG`, little-endian). */
export const EVENT_IX_TAG: Uint8Array = Uint8Array.of(0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d);

/** The parts of an Anchor IDL (spec 0.1.0) that events need. */
export type IdlType =
  | string
  | { array: [IdlType, number] }
  | { vec: IdlType }
  | { option: IdlType }
  | { defined: { name: string } };
export type IdlTypeDef = {
  name: string;
  type:
    | { kind: 'struct'; fields?: { name: string; type: IdlType }[] }
    | { kind: 'enum'; variants: { name: string; fields?: ({ name: string; type: IdlType } | IdlType)[] }[] };
};
export type EventIdl = { events?: { name: string; discriminator: number[] }[]; types?: IdlTypeDef[] };

/**
 * A decoded value: integers up to 32 bits and booleans as themselves, 64- and 128-bit integers
 * as bigints, public keys as base58 strings, byte arrays as Uint8Array, structs as objects keyed
 * by the IDL's (snake_case) field names, enums as their variant's name (or `{ name: fields }`
 * for a variant with fields).
 */
export type EventValue = number | bigint | boolean | string | Uint8Array | EventValue[] | null | { [field: string]: EventValue };
export type DecodedEvent = { name: string; data: { [field: string]: EventValue } };

class Reader {
  at = 0;
  private view: DataView;
  constructor(private bytes: ReadonlyUint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new Error(`the event is truncated (needs ${this.at + n} bytes, has ${this.bytes.length})`);
    const out = Uint8Array.from(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }
  int(bytes: 1 | 2 | 4 | 8 | 16, signed: boolean): number | bigint {
    const at = this.at;
    this.take(bytes);
    const v = this.view;
    switch (bytes) {
      case 1:
        return signed ? v.getInt8(at) : v.getUint8(at);
      case 2:
        return signed ? v.getInt16(at, true) : v.getUint16(at, true);
      case 4:
        return signed ? v.getInt32(at, true) : v.getUint32(at, true);
      case 8:
        return signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true);
      default: {
        const lo = v.getBigUint64(at, true);
        const hi = signed ? v.getBigInt64(at + 8, true) : v.getBigUint64(at + 8, true);
        return (hi << 64n) + lo;
      }
    }
  }
}

/**
 * An event decoder for the program described by `idl`: `decodeEvent(bytes)` takes an event's
 * bytes (its 8-byte discriminator, then its fields) and returns `{ name, data }`, or `null` when
 * the discriminator is none of the program's events; it throws on bytes that do not decode
 * (truncated, or left over).
 */
export function eventDecoder(idl: EventIdl): {
  decodeEvent(bytes: ReadonlyUint8Array): DecodedEvent | null;
  decodeEventInstruction(data: ReadonlyUint8Array): DecodedEvent | null;
} {
  const types = new Map((idl.types ?? []).map((t) => [t.name, t]));
  const events = (idl.events ?? []).map((e) => ({ name: e.name, discriminator: Uint8Array.from(e.discriminator) }));
  const base58 = getBase58Decoder();

  const read = (r: Reader, t: IdlType): EventValue => {
    if (typeof t === 'string') {
      switch (t) {
        case 'bool':
          return r.take(1)[0] !== 0;
        case 'u8':
        case 'i8':
          return r.int(1, t === 'i8');
        case 'u16':
        case 'i16':
          return r.int(2, t === 'i16');
        case 'u32':
        case 'i32':
          return r.int(4, t === 'i32');
        case 'u64':
        case 'i64':
          return r.int(8, t === 'i64');
        case 'u128':
        case 'i128':
          return r.int(16, t === 'i128');
        case 'pubkey':
          return base58.decode(r.take(32));
        case 'string':
          return new TextDecoder().decode(r.take(Number(r.int(4, false))));
        case 'bytes':
          return r.take(Number(r.int(4, false)));
        default:
          throw new Error(`the IDL type ${t} is not supported by the event decoder`);
      }
    }
    if ('array' in t) {
      const [inner, n] = t.array;
      return inner === 'u8' ? r.take(n) : Array.from({ length: n }, () => read(r, inner));
    }
    if ('vec' in t) {
      const n = Number(r.int(4, false));
      return t.vec === 'u8' ? r.take(n) : Array.from({ length: n }, () => read(r, t.vec));
    }
    if ('option' in t) return r.take(1)[0] === 0 ? null : read(r, t.option);
    return readDefined(r, t.defined.name);
  };

  const readDefined = (r: Reader, name: string): EventValue => {
    const def = types.get(name);
    if (!def) throw new Error(`the IDL has no type ${name}`);
    if (def.type.kind === 'struct') {
      const out: { [field: string]: EventValue } = {};
      for (const f of def.type.fields ?? []) out[f.name] = read(r, f.type);
      return out;
    }
    const index = r.take(1)[0];
    const variant = def.type.variants[index];
    if (!variant) throw new Error(`${index} is not a variant of ${name}`);
    if (!variant.fields || variant.fields.length === 0) return variant.name;
    const fields = variant.fields.map((f) => (typeof f === 'object' && 'name' in f && 'type' in f ? read(r, f.type) : read(r, f as IdlType)));
    return { [variant.name]: fields };
  };

  const decodeEvent = (bytes: ReadonlyUint8Array): DecodedEvent | null => {
    const event = events.find((e) => e.discriminator.every((b, i) => bytes[i] === b));
    if (!event || bytes.length < 8) return null;
    const r = new Reader(bytes.subarray(8));
    const data = readDefined(r, event.name) as { [field: string]: EventValue };
    if (r.at !== bytes.length - 8) throw new Error(`${event.name}: ${bytes.length - 8 - r.at} bytes left over`);
    return { name: event.name, data };
  };

  return {
    decodeEvent,
    decodeEventInstruction(data) {
      if (data.length < 16 || !EVENT_IX_TAG.every((b, i) => data[i] === b)) return null;
      return decodeEvent(data.subarray(8));
    },
  };
}
