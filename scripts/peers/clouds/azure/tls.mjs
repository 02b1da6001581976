// A throwaway test CA and a server certificate for 127.0.0.1 / localhost / ::1, made with the openssl CLI (Node can
// parse X.509 but cannot sign certificates). EC P-256 keys: the whole set takes a few tens of milliseconds.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../proc.mjs';

/**
 * Writes ca.pem (the CA certificate: what clients trust), ca.key, server.pem (the leaf) and server.key into
 * `dir`, and answers their paths and contents.
 * @param {string} dir an existing private directory
 * @param {{ days?: number, hostnames?: string[] }} [opts]
 */
export async function createTestCa(dir, opts = {}) {
  const days = String(opts.days ?? 2);
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const leafFile = join(dir, 'server-leaf.pem');
  const certFile = join(dir, 'server.pem');
  const extFile = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const tag = randomBytes(4).toString('hex');
  await sh('openssl', [
    'req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', days, '-sha256',
    '-subj', `/O=Skydeck tests/CN=Skydeck Azure fake test CA ${tag}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await sh('openssl', ['req', '-new', ...ec, '-keyout', keyFile, '-out', csrFile, '-subj', '/O=Skydeck tests/CN=localhost']);
  const names = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...(opts.hostnames ?? []).map((h) => `DNS:${h}`)];
  writeFileSync(extFile, [
    `subjectAltName=${names.join(',')}`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  await sh('openssl', [
    'x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-out', leafFile, '-days', days, '-sha256',
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-extfile', extFile,
  ]);
  const caPem = readFileSync(caFile, 'utf8');
  const leafPem = readFileSync(leafFile, 'utf8');
  // The server sends its leaf only (the CA is a root: clients must already trust it, as with a real root).
  writeFileSync(certFile, leafPem);
  return { caFile, caPem, certFile, certPem: leafPem, keyFile, keyPem: readFileSync(keyFile, 'utf8') };
}
