// The Microsoft Entra ID part of the Azure fake: what @azure/identity's ClientSecretCredential (MSAL Node underneath)
// asks the authority host for, with the real endpoints' paths and response shapes:
//   GET  /{tenant}/v2.0/.well-known/openid-configuration   endpoint metadata (MSAL fetches it before the first token)
//   GET  /{tenant}/.well-known/openid-configuration        the v1 variant
//   GET  /common/discovery/instance?api-version=1.1&...     instance discovery (MSAL asks login.microsoftonline.com for
//                                                           it unless disableInstanceDiscovery: served for completeness)
//   GET  /{tenant}/discovery/v2.0/keys, /discovery/keys     the JWKS of the token signing key
//   POST /{tenant}/oauth2/v2.0/token                        client_credentials with client_id, client_secret, scope
//   POST /{tenant}/oauth2/token                             the v1 variant (resource instead of scope)
// Errors are AADSTS errors in Entra's JSON (error, error_description with trace/correlation ids, error_codes, ...).
import { randomUUID } from 'node:crypto';

/** Resources (audiences) this tenant knows; a scope for anything else fails with AADSTS500011 like a real tenant. */
export const KNOWN_RESOURCES = [
  'https://management.azure.com',
  'https://management.core.windows.net',
  'https://metrics.monitor.azure.com',
  'https://graph.microsoft.com',
  'https://vault.azure.net',
  'https://storage.azure.com',
];

/** @param {Date} d "2026-11-27 09:10:41Z" as Entra prints timestamps in errors */
const aadTime = (d) => `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;

/**
 * @typedef {import('./azure-fake.mjs').FakeContext} FakeContext
 * @typedef {{ status: number, headers?: Record<string, string>, body?: unknown }} FakeResponse
 */

/**
 * @param {FakeContext} ctx
 */
export function createEntra(ctx) {
  /** @param {number} status @param {string} error @param {number} code @param {string} description @returns {FakeResponse} */
  const aadError = (status, error, code, description) => {
    const now = new Date(ctx.now());
    const traceId = randomUUID();
    const correlationId = randomUUID();
    return {
      status,
      headers: { 'x-ms-request-id': traceId, 'client-request-id': correlationId },
      body: {
        error,
        error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${aadTime(now)}`,
        error_codes: [code],
        timestamp: aadTime(now),
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${ctx.authorityHost()}/error?code=${code}`,
      },
    };
  };

  /** @param {string} t */
  const knownTenant = (t) => t.toLowerCase() === ctx.tenantId || t.toLowerCase() === ctx.tenantDomain;
  /** @param {string} t */
  const tenantNotFound = (t) =>
    aadError(400, 'invalid_tenant', 90002, `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);

  /** @param {string} tenant the path segment ({tenant} kept for common/organizations, as the real document does) */
  function openidConfiguration(tenant, v2 = true) {
    const host = ctx.authorityHost();
    const t = knownTenant(tenant) ? ctx.tenantId : '{tenantid}';
    const issuer = v2 ? `${host}/${t}/v2.0` : `https://sts.windows.net/${t}/`;
    // Like Entra, a tenant asked for by domain name answers with endpoints on its id (MSAL reads the id from them).
    const base = `${host}/${knownTenant(tenant) ? ctx.tenantId : tenant}`;
    return {
      token_endpoint: v2 ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: v2 ? `${base}/oauth2/v2.0/authorize` : `${base}/oauth2/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: v2 ? `${base}/oauth2/v2.0/logout` : `${base}/oauth2/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  /**
   * @param {string} tenant
   * @param {URLSearchParams} form
   * @param {boolean} v2
   * @returns {FakeResponse}
   */
  function token(tenant, form, v2) {
    if (!knownTenant(tenant)) return tenantNotFound(tenant);
    const grant = form.get('grant_type');
    if (!grant) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grant !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
    const clientId = form.get('client_id');
    if (!clientId) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const principal = ctx.principals.find((p) => p.clientId.toLowerCase() === clientId.toLowerCase());
    if (!principal) {
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${ctx.tenantDomain}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    const secret = form.get('client_secret');
    if (!secret && !form.get('client_assertion')) {
      return aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (secret !== principal.clientSecret) {
      return aadError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${principal.clientId}'.`);
    }
    if (principal.secretExpired) {
      return aadError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${principal.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`);
    }
    let resource;
    if (v2) {
      const scope = form.get('scope');
      if (!scope) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
      const scopes = scope.split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access', 'email'].includes(s));
      const dflt = scopes.filter((s) => s.endsWith('/.default'));
      if (dflt.length !== 1 || scopes.length !== 1) {
        return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default appended to the resource identifier (application ID URI).`);
      }
      resource = (dflt[0] ?? '').slice(0, -'/.default'.length);
    } else {
      resource = form.get('resource') ?? '';
      if (!resource) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.");
    }
    // "https://management.core.windows.net//.default" asks for the audience with its trailing slash.
    const bare = resource.replace(/\/+$/, '');
    if (!KNOWN_RESOURCES.includes(bare.toLowerCase())) {
      return aadError(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${ctx.tenantDomain}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    }
    const lifetime = ctx.tokenLifetimeSec;
    const accessToken = ctx.issueToken({ clientId: principal.clientId, audience: resource, expiresInSec: lifetime });
    ctx.tokensIssued++;
    const now = Math.floor(ctx.now() / 1000);
    const body = v2
      ? { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken }
      : { token_type: 'Bearer', expires_in: String(lifetime), ext_expires_in: String(lifetime), expires_on: String(now + lifetime), not_before: String(now), resource, access_token: accessToken };
    return { status: 200, headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': randomUUID() }, body };
  }

  /**
   * Answers an Entra request, or null when the path is not Entra's.
   * @param {string} method
   * @param {URL} url
   * @param {string} rawBody
   * @param {Record<string, string | string[] | undefined>} headers
   * @returns {FakeResponse | null}
   */
  function handle(method, url, rawBody, headers) {
    const seg = url.pathname.split('/').filter(Boolean);
    const [tenant = '', ...rest] = seg;
    const tail = rest.join('/').toLowerCase();
    if (method === 'GET' && tenant === 'common' && tail === 'discovery/instance') {
      const host = new URL(ctx.authorityHost()).host;
      return {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${ctx.authorityHost()}/${ctx.tenantId}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        },
      };
    }
    if (method === 'GET' && (tail === 'v2.0/.well-known/openid-configuration' || tail === '.well-known/openid-configuration')) {
      const generic = ['common', 'organizations', 'consumers'].includes(tenant.toLowerCase());
      if (!generic && !knownTenant(tenant)) return tenantNotFound(tenant);
      return { status: 200, body: openidConfiguration(tenant, tail.startsWith('v2.0')) };
    }
    if (method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys')) {
      return { status: 200, body: { keys: ctx.jwks() } };
    }
    if (tail === 'oauth2/v2.0/token' || tail === 'oauth2/token') {
      if (method !== 'POST') return aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      const ct = String(headers['content-type'] ?? '');
      if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
      }
      return token(tenant, new URLSearchParams(rawBody), tail === 'oauth2/v2.0/token');
    }
    return null;
  }

  return { handle };
}
