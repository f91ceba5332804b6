// Shared set-up for the SDK test files: a signed-in client per test user.
import assert from "node:assert/strict";
import { Client } from "@avaprotocol/sdk-js";
import { Wallet } from "ethers";

export const endpoint = process.env.AVS_ENDPOINT;
assert.ok(endpoint, "AVS_ENDPOINT must be set");
export const adminKey = process.env.AVS_API_KEY;
export const hasChain = process.env.AVS_HAS_CHAIN === "1";

export async function signedIn() {
  const client = new Client({ endpoint });
  const wallet = Wallet.createRandom();
  const { message } = await client.getSignatureFormat(wallet.address);
  const signature = await wallet.signMessage(message);
  const { authKey } = await client.authWithSignature({ message, signature });
  client.setAuthKey(authKey);
  return { client, wallet };
}

// JSON-RPC to the devnet's chain (AVS_RPC_URL), for test set-up such as funding a wallet.
export async function rpc(method, params) {
  const reply = await fetch(process.env.AVS_RPC_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await reply.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}
