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
