import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { ApiError, fieldError } from '@shared/errors';
import type { SshAuthInput } from '@shared/contract/kvm';
import type { Vault } from '../vault/vault';
import type { SshAuth } from '../hosts/types';

/**
 * SSH credentials: checked at the API boundary (a key that does not parse, a missing passphrase, an unreadable key file
 * are refused before anything is stored or any host is touched), then kept only in the vault. What the vault holds is
 * the auth without its method's public parts; the method and user are in host_links.
 */
export type StoredAuth = { method: 'password'; password: string } | { method: 'key'; privateKey: string; passphrase?: string } | { method: 'agent' };

/** Turns the input into what is stored: reads a key file now (the key is kept, not the path), validates the key. */
export function resolveAuth(input: SshAuthInput, field = 'auth'): StoredAuth {
  if (input.method === 'password') return { method: 'password', password: input.password };
  if (input.method === 'agent') return { method: 'agent' };
  let text = input.privateKey;
  if (!text && input.privateKeyPath) {
    try {
      text = readFileSync(input.privateKeyPath, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
      throw fieldError(`${field}.privateKeyPath`, `cannot read the key file ${input.privateKeyPath}: ${why}`);
    }
  }
  if (!text) throw fieldError(`${field}.privateKey`, 'a private key is required');
  validatePrivateKey(text, input.passphrase, field);
  return { method: 'key', privateKey: text, ...(input.passphrase ? { passphrase: input.passphrase } : {}) };
}

export function validatePrivateKey(text: string, passphrase: string | undefined, field = 'auth'): void {
  if (/^ssh-(rsa|ed25519|dss) |^ecdsa-sha2-/.test(text.trim())) {
    throw fieldError(`${field}.privateKey`, 'this is a public key; give the private key (the file without .pub)');
  }
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error) {
    const m = parsed.message;
    if (/encrypted/i.test(m) && !passphrase) throw fieldError(`${field}.passphrase`, 'the key is encrypted: give its passphrase');
    if (/bad passphrase|decrypt|integrity check/i.test(m)) throw fieldError(`${field}.passphrase`, 'the passphrase does not decrypt this key');
    throw fieldError(`${field}.privateKey`, `not a private key Skydeck can read (OpenSSH, PEM or PKCS#8): ${m}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) throw fieldError(`${field}.privateKey`, 'this is not a private key');
}

export const authSecretId = (hostId: string) => `host:${hostId}:auth`;
export const jumpSecretId = (hostId: string) => `host:${hostId}:jump`;
/** A guest's VNC password, kept for the console proxy (main/consoles), which answers VNC authentication with it. */
export const vncSecretId = (guestId: string) => `guest:${guestId}:vnc`;

export async function storeAuth(vault: Vault, id: string, auth: StoredAuth): Promise<void> {
  await vault.put(id, 'ssh', JSON.stringify(auth));
}

export async function loadAuth(vault: Vault, id: string, sshAuthSock: string | null): Promise<SshAuth> {
  const raw = await vault.get(id);
  if (!raw) throw new ApiError('not_found', 'the credentials of this host are missing from the vault: set them again');
  return toSshAuth(JSON.parse(raw.toString('utf8')) as StoredAuth, sshAuthSock);
}

/** What ssh2 gets for stored credentials: the ssh-agent method becomes the workstation's agent socket. */
export function toSshAuth(a: StoredAuth, sshAuthSock: string | null): SshAuth {
  if (a.method === 'agent') {
    if (!sshAuthSock) throw new ApiError('unreachable', 'ssh-agent authentication needs SSH_AUTH_SOCK, which is not set for Skydeck', { reason: 'agent_unavailable' });
    return { method: 'agent', socket: sshAuthSock };
  }
  return a;
}
