// Wallets and the workflow lifecycle through the SDK, on the devnet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

function manualWorkflow(client, runner, name) {
  const trigger = TriggerFactory.create({
    id: "trigger1",
    name: "manualTrigger",
    type: TriggerType.Manual,
    data: { data: { hello: "world" }, lang: "json" },
  });
  const node = NodeFactory.create({
    id: "node1",
    name: "callApi",
    type: NodeType.RestAPI,
    data: { url: "http://127.0.0.1:9/unused", method: "GET", body: "", headers: {} },
  });
  return client.createWorkflow({
    name,
    smartWalletAddress: runner,
    trigger,
    nodes: [node],
    edges: [new Edge({ id: "edge1", source: "trigger1", target: "node1" })],
    startAt: 0,
    expiredAt: 0,
    maxExecution: 5,
    inputVariables: { settings: { name, runner } },
  });
}

test("wallets: create, list, hide", async () => {
  const { client } = await signedIn();
  const first = await client.getWallet({ salt: "0" });
  assert.match(first.address, /^0x[0-9a-fA-F]{40}$/);
  const second = await client.getWallet({ salt: "7" });
  const wallets = await client.getWallets();
  assert.deepEqual(wallets.map((w) => w.salt).sort(), ["0", "7"]);
  const hidden = await client.setWallet({ salt: "7" }, { isHidden: true });
  assert.equal(hidden.isHidden, true);
  assert.equal(hidden.address, second.address);
});

test("workflows: submit, read, list, disable, enable, count, delete", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const ids = [];
  for (const name of ["one", "two", "three"]) {
    ids.push(await client.submitWorkflow(manualWorkflow(client, runner, name)));
  }
  const wf = await client.getWorkflow(ids[0]);
  assert.equal(wf.id, ids[0]);
  assert.equal(wf.name, "one");
  assert.equal(wf.maxExecution, 5);
  assert.equal(wf.smartWalletAddress, runner);

  const page = await client.getWorkflows([runner], { limit: 2 });
  assert.deepEqual(page.items.map((w) => w.id), [ids[2], ids[1]]);
  assert.equal(page.pageInfo.hasNextPage, true);
  const rest = await client.getWorkflows([runner], { limit: 2, after: page.pageInfo.endCursor });
  assert.deepEqual(rest.items.map((w) => w.id), [ids[0]]);

  const off = await client.setWorkflowEnabled(ids[1], false);
  assert.equal(off.status, "disabled");
  const on = await client.setWorkflowEnabled(ids[1], true);
  assert.equal(on.status, "enabled");

  assert.equal(await client.getWorkflowCount([runner]), 3);
  const deleted = await client.deleteWorkflow(ids[2]);
  assert.equal(deleted.status, "deleted");
  assert.equal(await client.getWorkflowCount([runner]), 2);
  await assert.rejects(client.getWorkflow(ids[2]), /task not found/);
});

test("someone else's workflow is not found", async () => {
  const alice = await signedIn();
  const bob = await signedIn();
  const runner = (await alice.client.getWallet({ salt: "0" })).address;
  const id = await alice.client.submitWorkflow(manualWorkflow(alice.client, runner, "mine"));
  await assert.rejects(bob.client.getWorkflow(id), /task not found/);
  await assert.rejects(bob.client.getWorkflows([runner]), /invalid smart account address/);
});
