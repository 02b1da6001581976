import type { Provider } from '@shared/contract/inventory/base';
import type { GuestAction } from '@shared/contract/inventory/commands';

/**
 * One compute driver per provider (KVM over SSH, ESXi, bare metal, each cloud), as Cloudpods keeps one driver
 * interface per resource kind. The core asks a driver what it can do instead of branching on the provider.
 */
export interface GuestRef {
  id: string;
  name: string;
  externalId: string | null;
  hostId: string | null;
  cloudAccountId: string | null;
  status: string;
}

export interface ComputeDriver {
  readonly provider: Provider;
  /** The guest actions this driver performs. */
  guestActions(): readonly GuestAction[];
  /** Performs the action and resolves when the guest reached the action's end state (or rejects with an ApiError). */
  guestAction(guest: GuestRef, action: GuestAction, signal: AbortSignal): Promise<void>;
  /** The guest's real status right now (after a crash mid-action), or null when it cannot be asked. */
  observeGuest?(guest: GuestRef): Promise<string | null>;
}

export class DriverRegistry {
  private readonly drivers = new Map<Provider, ComputeDriver>();

  register(d: ComputeDriver): void {
    this.drivers.set(d.provider, d);
  }

  get(provider: Provider): ComputeDriver | undefined {
    return this.drivers.get(provider);
  }

  /** What each provider can do, for the UI. */
  capabilities(): Record<string, { guestActions: GuestAction[] }> {
    return Object.fromEntries([...this.drivers].map(([p, d]) => [p, { guestActions: [...d.guestActions()] }]));
  }
}
