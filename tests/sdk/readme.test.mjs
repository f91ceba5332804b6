// The README's JavaScript quick start, as written (endpoint from the test harness).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { Wallet } from "ethers";
import { endpoint } from "./helpers.mjs";

test("README quick start", async () => {
  const client = new Client({ endpoint });
  const wallet = Wallet.createRandom();
  const { message } = await client.getSignatureFormat(wallet.address);
  client.setAuthKey((await client.authWithSignature({ message, signature: await wallet.signMessage(message) })).authKey);
  const runner = (await client.getWallet({ salt: "0" })).address;
  const trigger = TriggerFactory.create({ id: "t1", name: "start", type: "manualTrigger", data: { data: {}, lang: "json" } });
  const node = NodeFactory.create({ id: "n1", name: "hello", type: "restApi", data: { url: "https://mock-api.ap-aggregator.local/hi", method: "GET", body: "", headers: {} } });
  const id = await client.submitWorkflow(client.createWorkflow({ name: "hello", trigger, nodes: [node], edges: [new Edge({ id: "e1", source: "t1", target: "n1" })], startAt: 0, expiredAt: 0, maxExecution: 10, inputVariables: { settings: { name: "hello", runner } } }));
  const result = await client.triggerWorkflow({ id, triggerData: { type: "manualTrigger", data: {} }, isBlocking: true });
  assert.equal(result.status, "success", JSON.stringify(result));
});
