// The TypeScript MCP SDK's OAuth flow against Dovecote with no browser (run by Tests/OAuth/TypeScriptOAuthTests.cs):
// auth() discovers the server, registers a public client (token_endpoint_auth_method "none") and sends the "user" to
// the consent page; redirectToAuthorization below plays that user with a cookie jar (GET the page, POST the form with
// tenant, password and the CSRF token) and follows the 302 to a real loopback callback server on an ephemeral port.
// Then the client connects with the authProvider, lists tools, calls list_channels, breaks its access token so the
// next 401 makes the SDK refresh, and calls again.
//
// Input (environment): DOVECOTE_MCP_URL, DOVECOTE_TENANT, DOVECOTE_PASSWORD.
// Output: one JSON summary on stdout. Exit code 0 only if every step succeeded; diagnostics go to stderr.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const log = (...args) => process.stderr.write(args.join(' ') + '\n');

// Every request the SDK makes, so the summary can say which token grants it used.
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  let grantType = null;
  if (method === 'POST' && url.pathname === '/token' && init.body !== undefined) {
    grantType = new URLSearchParams(init.body.toString()).get('grant_type');
  }
  const response = await realFetch(input, init);
  sent.push({ method, path: url.pathname, status: response.status, grantType });
  return response;
};

/** A loopback HTTP server that receives the authorization redirect (the end of the "browser" journey). */
async function startCallbackServer() {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/callback') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    deliver(Object.fromEntries(url.searchParams));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/callback`, received, close: () => server.close() };
}

function decodeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_, entity) => {
    const e = entity.toLowerCase();
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
  });
}

function attributes(tag) {
  const result = {};
  for (const m of tag.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    result[m[1].toLowerCase()] ??= decodeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return result;
}

/** The consent page's POST form: action and named inputs (hidden OAuth parameters, csrf_token, tenant...). */
function parseForm(html, pageUrl) {
  const form = html.match(/(<form\b[^>]*\bmethod\s*=\s*["']?post["']?[^>]*>)([\s\S]*?)<\/form>/i);
  if (!form) throw new Error(`the consent page has no POST form:\n${html}`);
  const action = new URL(attributes(form[1]).action || pageUrl, pageUrl);
  const fields = new URLSearchParams();
  for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const a = attributes(input[0]);
    if (a.name) fields.set(a.name, a.value ?? '');
  }
  return { action, fields };
}

/** A cookie jar good enough for one origin: name=value pairs from Set-Cookie. */
function cookieJar() {
  const cookies = new Map();
  return {
    store(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
    },
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    names: () => [...cookies.keys()],
  };
}

async function main() {
  const serverUrl = new URL(required('DOVECOTE_MCP_URL'));
  const tenant = required('DOVECOTE_TENANT');
  const password = required('DOVECOTE_PASSWORD');
  const summary = {};
  const callback = await startCallbackServer();

  const store = {};
  let expectedState;
  const provider = {
    get redirectUrl() { return callback.url; },
    get clientMetadata() {
      return {
        client_name: 'Dovecote TS SDK test',
        redirect_uris: [callback.url],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
    },
    state: () => (expectedState = randomUUID()),
    clientInformation: () => store.client,
    saveClientInformation: (info) => { store.client = info; },
    tokens: () => store.tokens,
    saveTokens: (tokens) => { store.tokens = tokens; },
    saveCodeVerifier: (verifier) => { store.verifier = verifier; },
    codeVerifier: () => store.verifier,
    // The "browser": GET the consent page, keep its cookie, POST the form as the user, follow the redirect.
    async redirectToAuthorization(authorizationUrl) {
      summary.authorize = Object.fromEntries(['code_challenge_method', 'resource', 'scope', 'client_id']
        .map((k) => [k, authorizationUrl.searchParams.get(k)]));
      const jar = cookieJar();
      const page = await realFetch(authorizationUrl, { redirect: 'manual' });
      jar.store(page);
      const html = await page.text();
      if (page.status !== 200) throw new Error(`GET /authorize answered ${page.status}:\n${html}`);
      const { action, fields } = parseForm(html, authorizationUrl);
      // The Origin a browser sends with the form: "null" under Referrer-Policy: no-referrer (Fetch spec; Chromium does).
      const submitOrigin = page.headers.get('referrer-policy')?.split(',').pop().trim() === 'no-referrer' ? 'null' : authorizationUrl.origin;
      summary.authorize.submitOrigin = submitOrigin;
      summary.authorize.cookies = jar.names();
      summary.authorize.hasCsrf = !!fields.get('csrf_token');
      fields.set('tenant', tenant);
      fields.set('password', password);
      fields.set('decision', 'allow');
      const post = await realFetch(action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), origin: submitOrigin },
        body: fields,
      });
      const location = post.headers.get('location');
      if (post.status !== 302 || !location) throw new Error(`POST /authorize answered ${post.status}, expected 302:\n${await post.text()}`);
      summary.authorize.postStatus = post.status;
      const landed = await realFetch(new URL(location, action));
      summary.authorize.callbackStatus = landed.status;
    },
  };

  const first = await auth(provider, { serverUrl });
  if (first !== 'REDIRECT') throw new Error(`auth() without a code returned ${first}, expected REDIRECT`);
  const redirect = await callback.received;
  callback.close();
  summary.redirect = { hasCode: !!redirect.code, stateMatches: redirect.state === expectedState, iss: redirect.iss ?? null, error: redirect.error ?? null };
  if (!redirect.code) throw new Error(`the callback got no code: ${JSON.stringify(redirect)}`);
  if (redirect.state !== expectedState) throw new Error(`state mismatch: sent ${expectedState}, got ${redirect.state}`);

  const second = await auth(provider, { serverUrl, authorizationCode: redirect.code });
  if (second !== 'AUTHORIZED') throw new Error(`auth() with the code returned ${second}, expected AUTHORIZED`);
  summary.registration = {
    client_id: store.client.client_id,
    token_endpoint_auth_method: store.client.token_endpoint_auth_method ?? null,
    hasSecret: store.client.client_secret !== undefined,
  };
  summary.token = { token_type: store.tokens.token_type, hasRefreshToken: !!store.tokens.refresh_token, scope: store.tokens.scope ?? null };

  const client = new Client({ name: 'dovecote-ts-oauth', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  await client.connect(transport);
  try {
    summary.tools = (await client.listTools()).tools.map((t) => t.name).sort();
    const channels = await client.callTool({ name: 'list_channels', arguments: {} });
    if (channels.isError) throw new Error(`list_channels failed: ${JSON.stringify(channels)}`);
    summary.channels = channels.structuredContent.channels.map((c) => c.id);

    // A broken access token: the server answers 401 and the SDK must refresh with the refresh token.
    const before = store.tokens;
    store.tokens = { ...before, access_token: 'garbage-' + randomUUID() };
    const again = await client.callTool({ name: 'list_channels', arguments: {} });
    if (again.isError) throw new Error(`list_channels after the refresh failed: ${JSON.stringify(again)}`);
    summary.afterRefresh = {
      channels: again.structuredContent.channels.map((c) => c.id),
      accessTokenChanged: store.tokens.access_token !== before.access_token && !store.tokens.access_token.startsWith('garbage-'),
      refreshTokenRotated: store.tokens.refresh_token !== before.refresh_token,
    };
  } finally {
    await client.close();
  }

  summary.grants = sent.filter((r) => r.method === 'POST' && r.path === '/token').map((r) => r.grantType);
  summary.mcpStatuses = sent.filter((r) => r.path === '/mcp').map((r) => r.status);
  summary.registered = sent.some((r) => r.method === 'POST' && r.path === '/register' && r.status === 201);
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((error) => {
  log(`oauth-client failed: ${error?.stack ?? error}`);
  process.exit(1);
});
