import { invalidParams } from './errors';
import type { DomainRef } from './libvirt';
import { hasControlChars } from './virsh';

/**
 * Hand-written checks of request params (the bundle carries no schema library). Each reader throws RPC_INVALID_PARAMS
 * naming the field; unknown fields are ignored so that a newer app can talk to an older agent.
 */
export class Params {
  private readonly p: Record<string, unknown>;

  constructor(raw: unknown) {
    if (raw === undefined || raw === null) this.p = {};
    else if (typeof raw === 'object' && !Array.isArray(raw)) this.p = raw as Record<string, unknown>;
    else throw invalidParams('params must be an object');
  }

  has(key: string): boolean {
    return this.p[key] !== undefined && this.p[key] !== null;
  }

  str(key: string, o: { max?: number; allowEmpty?: boolean } = {}): string {
    const v = this.p[key];
    if (typeof v !== 'string') throw invalidParams(`${key} must be a string`);
    if (!o.allowEmpty && v.length === 0) throw invalidParams(`${key} must not be empty`);
    if (v.length > (o.max ?? 4096)) throw invalidParams(`${key} is longer than ${o.max ?? 4096} characters`);
    return v;
  }

  optStr(key: string, o: { max?: number; allowEmpty?: boolean } = {}): string | undefined {
    return this.has(key) ? this.str(key, o) : undefined;
  }

  /** A string for virsh's one-line commands: no line breaks, tabs or other control characters. */
  line(key: string, o: { max?: number } = {}): string {
    const v = this.str(key, o);
    if (hasControlChars(v)) throw invalidParams(`${key} must not contain line breaks, tabs or other control characters`);
    return v;
  }

  optLine(key: string, o: { max?: number } = {}): string | undefined {
    return this.has(key) ? this.line(key, o) : undefined;
  }

  int(key: string, o: { min?: number; max?: number } = {}): number {
    const v = this.p[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidParams(`${key} must be an integer`);
    if (o.min !== undefined && v < o.min) throw invalidParams(`${key} must be at least ${o.min}`);
    if (o.max !== undefined && v > o.max) throw invalidParams(`${key} must be at most ${o.max}`);
    return v;
  }

  optInt(key: string, o: { min?: number; max?: number } = {}): number | undefined {
    return this.has(key) ? this.int(key, o) : undefined;
  }

  optBool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.p[key];
    if (typeof v !== 'boolean') throw invalidParams(`${key} must be true or false`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.p[key];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalidParams(`${key} must be one of ${values.join(', ')}`);
    return v as T;
  }

  optOneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    return this.has(key) ? this.oneOf(key, values) : undefined;
  }

  /** { uuid } or { name }: exactly one of them. */
  domain(): DomainRef {
    if (this.has('uuid') === this.has('name')) throw invalidParams('give the domain as uuid or as name (one of them)');
    return this.has('uuid') ? this.domainUuid() : { name: this.line('name', { max: 256 }) };
  }

  /**
   * The domain of a snapshot call: `DomainRef & { name }` leaves `name` to the snapshot, so the domain can only be
   * given by uuid there.
   */
  domainUuid(): { uuid: string } {
    if (!this.has('uuid')) throw invalidParams('give the domain by uuid (name is the snapshot name here)');
    const uuid = this.str('uuid');
    if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(uuid)) throw invalidParams('uuid is not a UUID');
    return { uuid };
  }
}
