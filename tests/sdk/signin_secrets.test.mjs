// Sign-in and secrets through the published @avaprotocol/sdk-js 2.16.0, against our server.
// Run by tests/sdk/test_sdk.py with AVS_ENDPOINT set; `node --test` is the runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@avaprotocol/sdk-js";
import { signedIn, endpoint, adminKey } from "./helpers.mjs";
import { Wallet } from "ethers";

test("sign in with a wallet signature", async () => {
  const { client, wallet } = await signedIn();
  const payload = JSON.parse(Buffer.from(client.getAuthKey().split(".")[1], "base64url"));
  assert.equal(payload.sub, wallet.address);
  assert.equal(payload.iss, "AvaProtocol");
});

test("a bad signature is refused with the literal message", async () => {
  const client = new Client({ endpoint });
  const wallet = Wallet.createRandom();
  const { message } = await client.getSignatureFormat(wallet.address);
  const other = await Wallet.createRandom().signMessage(message);
  await assert.rejects(client.authWithSignature({ message, signature: other }), (err) => {
    assert.match(String(err.message ?? err), /User Auth key is invalid/);
    return true;
  });
});

test("secrets: create, list with pagination, update, delete", async () => {
  const { client } = await signedIn();
  for (const name of ["alpha", "beta", "gamma"]) {
    const created = await client.createSecret(name, `value-of-${name}`);
    assert.equal(created.success, true);
  }
  const first = await client.getSecrets({ limit: 2 });
  assert.deepEqual(first.items.map((s) => s.name), ["alpha", "beta"]);
  assert.equal(first.pageInfo.hasNextPage, true);
  const rest = await client.getSecrets({ limit: 2, after: first.pageInfo.endCursor });
  assert.deepEqual(rest.items.map((s) => s.name), ["gamma"]);
  assert.ok(!JSON.stringify(rest).includes("value-of-"));
  const updated = await client.updateSecret("beta", "new");
  assert.equal(updated.success, true);
  const deleted = await client.deleteSecret("alpha");
  assert.equal(deleted.status, "deleted");
});

test("no auth key gives UNAUTHENTICATED", async () => {
  const client = new Client({ endpoint });
  await assert.rejects(client.getSecrets({}), (err) => {
    assert.equal(err.code, 16);
    return true;
  });
});

test("sign in with an admin API key for any wallet", async () => {
  assert.ok(adminKey, "AVS_API_KEY must be set");
  const client = new Client({ endpoint });
  const wallet = Wallet.createRandom();
  const { message } = await client.getSignatureFormat(wallet.address);
  const { authKey } = await client.authWithAPIKey({ message, apiKey: adminKey });
  const payload = JSON.parse(Buffer.from(authKey.split(".")[1], "base64url"));
  assert.equal(payload.sub, wallet.address);
  client.setAuthKey(authKey);
  const secrets = await client.getSecrets({});
  assert.deepEqual(secrets.items, []);
});
