// Other RPCs through the SDK (issue 26, items 10-14 and the address rule): execution reads
// with a bad workflow id, token metadata address forms, ListTasks argument order and
// near-miss addresses, workflow-scoped secrets, event topics stored as sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

const token = process.env.AVS_TOKEN;
const UNKNOWN_ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

test("getExecution and getExecutionStatus with an unknown or malformed workflow id: task not found", async () => {
  const { client } = await signedIn();
  for (const id of [UNKNOWN_ULID, "not-a-workflow-id", "0x1234"]) {
    await assert.rejects(client.getExecution(id, UNKNOWN_ULID), (error) => {
      assert.match(String(error.message ?? error), /task not found/);
      assert.equal(error.code, 5, `NOT_FOUND for ${id}`);
      return true;
    });
    await assert.rejects(client.getExecutionStatus(id, UNKNOWN_ULID), (error) => {
      assert.match(String(error.message ?? error), /task not found/);
      assert.equal(error.code, 5);
      return true;
    });
  }
});

test("getTokenMetadata takes 0x, 0X or no prefix in any case; the id is lower case", async () => {
  const { client } = await signedIn();
  const digits = token.slice(2);
  for (const form of [token, `0X${digits.toUpperCase()}`, digits.toLowerCase(), digits.toUpperCase()]) {
    const found = await client.getTokenMetadata({ address: form });
    assert.equal(found.found, true, form);
    assert.equal(found.token.id, token.toLowerCase(), form);
  }
  for (const bad of [`${token}\n`, ` ${token}`, `0x0x${digits}`]) {
    await assert.rejects(client.getTokenMetadata({ address: bad }), /invalid token address format/);
  }
});

test("listTasks checks the wallets before the page arguments; near-miss addresses are refused", async () => {
  const { client } = await signedIn();
  const wallet = (await client.getWallet({ salt: "0" })).address;
  await assert.rejects(client.getWorkflows(["0x123"], { limit: -5 }), /invalid smart account address/);
  for (const miss of [`${wallet}\n`, `${wallet} `, ` ${wallet}`, `0x0x${wallet.slice(2)}`]) {
    await assert.rejects(client.getWorkflows([miss]), (error) => {
      assert.match(String(error.message ?? error), /invalid smart account address/);
      assert.equal(error.code, 3, "INVALID_ARGUMENT");
      return true;
    });
  }
  assert.deepEqual((await client.getWorkflows([wallet])).items, []);
});

const codeNode = (source) => NodeFactory.create({ id: "n", name: "peek", type: NodeType.CustomCode, data: { lang: "javascript", source } });

async function manualWorkflow(client, runner, node, trigger = null) {
  return client.submitWorkflow(client.createWorkflow({
    name: "rpcs",
    smartWalletAddress: runner,
    trigger: trigger ?? TriggerFactory.create({ id: "t", name: "go", type: TriggerType.Manual, data: { data: {}, lang: "json" } }),
    nodes: [node],
    edges: [new Edge({ id: "e", source: "t", target: "n" })],
    startAt: 0,
    expiredAt: 0,
    maxExecution: 5,
    inputVariables: { settings: { name: "rpcs", runner } },
  }));
}

test("workflow-scoped secrets may name any workflow id; only the owner's secrets reach a run", async () => {
  const alice = await signedIn();
  const bob = await signedIn();
  const created = await bob.client.createSecret("scoped_key", "bob-value", { workflowId: UNKNOWN_ULID });
  assert.equal(created.success, true);
  const listed = await bob.client.getSecrets({ workflowId: UNKNOWN_ULID });
  assert.deepEqual(listed.items.map((s) => [s.name, s.workflowId]), [["scoped_key", UNKNOWN_ULID]]);
  assert.deepEqual((await bob.client.getSecrets({ workflowId: "01BX5ZZKBKACTAV9WEVGEMMVRZ" })).items, []);
  const deleted = await bob.client.deleteSecret("scoped_key");
  assert.equal(deleted.status, "deleted");
  assert.deepEqual((await bob.client.getSecrets({})).items, []);

  // Bob names Alice's workflow: her runs never see his value; hers (same name) they do.
  const runner = (await alice.client.getWallet({ salt: "0" })).address;
  const id = await manualWorkflow(alice.client, runner, codeNode("return apContext.configVars.shared_key || 'none'"));
  await bob.client.createSecret("shared_key", "from-bob", { workflowId: id });
  const run = async () => {
    const done = await alice.client.triggerWorkflow({ id, triggerData: { type: TriggerType.Manual, data: {} }, isBlocking: true });
    return (await alice.client.getExecution(id, done.executionId)).steps.find((s) => s.name === "peek").output;
  };
  assert.equal(await run(), "none");
  await alice.client.createSecret("shared_key", "from-alice", { workflowId: id });
  assert.equal(await run(), "***", "the owner's own workflow secret is loaded (and masked in the stored output)");
});

test("createWorkflow stores event topics exactly as sent; getWorkflow round-trips them", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const topics = ["0x" + "DDF252AD1BE2C89B69C2B068FC378DAA952BA7F163C4A11628F55A4DF523B3EF", runner, ""];
  const trigger = TriggerFactory.create({ id: "t", name: "moved", type: TriggerType.Event, data: { queries: [{ addresses: [token], topics }] } });
  const id = await manualWorkflow(client, runner, codeNode("return 1"), trigger);
  const back = await client.getWorkflow(id);
  // the SDK reads a wildcard ("") back as null
  assert.deepEqual(back.trigger.data.queries[0].topics, [topics[0], topics[1], null]);
});
