// The TypeScript MCP SDK as an agent would use it against Dovecote's authenticated /mcp (run by
// Tests/Conformance/TypeScriptClientTests.cs). Lists the tools, sends a notification to a channel, reads its
// delivery status, and checks that a request without the key is refused.
//
// Input (environment): DOVECOTE_MCP_URL, DOVECOTE_API_KEY, DOVECOTE_CHANNEL, DOVECOTE_MESSAGE.
// Output: one JSON summary on stdout. Exit code 0 only if every step succeeded; diagnostics go to stderr.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function connect(url, apiKey) {
  const client = new Client({ name: 'dovecote-ts-interop', version: '1.0.0' });
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  return { client, transport };
}

/** Calls a tool and returns its structuredContent; a tool error (isError) is a failure. */
async function callTool(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) {
    const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');
    throw new Error(`${name} returned a tool error: ${text}`);
  }
  if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
  return result.structuredContent;
}

async function main() {
  const url = required('DOVECOTE_MCP_URL');
  const apiKey = required('DOVECOTE_API_KEY');
  const channel = required('DOVECOTE_CHANNEL');
  const message = required('DOVECOTE_MESSAGE');
  const summary = {};

  const { client, transport } = connect(url, apiKey);
  await client.connect(transport);
  try {
    summary.protocolVersion = transport.protocolVersion ?? null;
    summary.server = client.getServerVersion();
    summary.tools = (await client.listTools()).tools.map((t) => t.name).sort();

    summary.send = await callTool(client, 'send_notification', { channel, message, title: 'Interop', wait_seconds: 20 });
    const deliveryId = summary.send.deliveries?.[0]?.delivery_id;
    if (!deliveryId) throw new Error(`send_notification returned no delivery_id: ${JSON.stringify(summary.send)}`);

    summary.status = await callTool(client, 'get_delivery_status', { delivery_id: deliveryId });
  } finally {
    await client.close();
  }

  // Without the key the server must refuse to even initialize.
  const anonymous = connect(url, null);
  try {
    await anonymous.client.connect(anonymous.transport);
    await anonymous.client.close();
    summary.unauthenticated = { rejected: false };
  } catch (error) {
    // StreamableHTTPError carries the HTTP status as `code`.
    summary.unauthenticated = { rejected: true, status: error?.code ?? null, error: String(error?.message ?? error) };
  }
  if (!summary.unauthenticated.rejected) throw new Error('a client without the API key was allowed to connect');

  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((error) => {
  process.stderr.write(`ts-client failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
