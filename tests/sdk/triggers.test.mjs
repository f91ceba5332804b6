// Triggers that fire by themselves, through the whole stack: the operator daemon sees new
// blocks and an ERC-20 transfer on the devnet, the aggregator runs the workflows, and the SDK
// reads the executions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType } from "@avaprotocol/types";
import { rpc, signedIn } from "./helpers.mjs";

const token = process.env.AVS_TOKEN;
const TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

async function waitForExecution(client, id, nudge) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const page = await client.getExecutions([id], { limit: 5 });
    if (page.items.length > 0) return page.items[0];
    if (nudge) await nudge();
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no execution of ${id} within 30 s`);
}

function workflow(client, runner, trigger, source) {
  const node = NodeFactory.create({ id: "n", name: "seen", type: NodeType.CustomCode, data: { lang: "javascript", source } });
  return client.createWorkflow({
    name: `fires-${trigger.type}`,
    smartWalletAddress: runner,
    trigger,
    nodes: [node],
    edges: [new Edge({ id: "e", source: trigger.id, target: "n" })],
    startAt: 0,
    expiredAt: 0,
    maxExecution: 3,
    inputVariables: { settings: { name: `fires-${trigger.type}`, runner } },
  });
}

test("a block trigger fires on new blocks", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const trigger = TriggerFactory.create({ id: "t", name: "blocks", type: TriggerType.Block, data: { interval: 1 } });
  const id = await client.submitWorkflow(workflow(client, runner, trigger, "return blocks.data.blockNumber"));
  const execution = await waitForExecution(client, id, () => rpc("evm_mine", []));
  assert.equal(execution.steps[0].type, "blockTrigger");
});

test("an event trigger fires on an ERC-20 transfer to the wallet", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const trigger = TriggerFactory.create({
    id: "t",
    name: "received",
    type: TriggerType.Event,
    data: { queries: [{ addresses: [token], topics: [TRANSFER, null, runner] }] },
  });
  const id = await client.submitWorkflow(workflow(client, runner, trigger, "return received.data.transactionHash"));
  // The operator learns of the workflow asynchronously: mint again on every poll until the
  // first transfer it watches produces an execution.
  const mint = "0x40c10f19" + runner.slice(2).toLowerCase().padStart(64, "0") + (1234n).toString(16).padStart(64, "0");
  const accounts = await rpc("eth_accounts", []);
  const send = () => rpc("eth_sendTransaction", [{ from: accounts[0], to: token, data: mint, gas: "0x100000" }]);
  const execution = await waitForExecution(client, id, send);
  assert.match(JSON.stringify(execution.steps[0]), /0x[0-9a-f]{64}/);
});
