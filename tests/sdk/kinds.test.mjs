// Every trigger kind and every node kind through the SDK, on the devnet. GraphQL goes to a
// server this file starts on 127.0.0.1; contract nodes use the devnet's test token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType, ExecutionStatus } from "@avaprotocol/types";
import { rpc, signedIn } from "./helpers.mjs";

const token = process.env.AVS_TOKEN;
const TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const tokenAbi = JSON.parse(fs.readFileSync("contracts/artifacts/TestToken.json", "utf8")).abi;
const abiOf = (...names) => tokenAbi.filter((e) => e.type === "function" && names.includes(e.name));

let graphqlUrl;
let server;
before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { variables } = JSON.parse(body);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ data: { echo: variables.who, block: { number: 7 } } }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  graphqlUrl = `http://127.0.0.1:${server.address().port}/graphql`;
});
after(() => server.close());

const code = NodeFactory.create({ id: "n1", name: "seen", type: NodeType.CustomCode, data: { lang: "javascript", source: "return 1" } });

function workflowWith(client, runner, trigger, nodes = [code], edges = null) {
  return client.createWorkflow({
    name: `kind-${trigger.type}`,
    smartWalletAddress: runner,
    trigger,
    nodes,
    edges: edges ?? [new Edge({ id: "e1", source: trigger.id, target: nodes[0].id })],
    startAt: 0,
    expiredAt: 0,
    maxExecution: 5,
    inputVariables: { settings: { name: `kind-${trigger.type}`, runner } },
  });
}

test("every trigger kind is accepted, stored and read back", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const triggers = [
    TriggerFactory.create({ id: "t", name: "manual", type: TriggerType.Manual, data: { data: { a: 1 }, headers: { "X-Source": "sdk" }, pathParams: { id: "7" }, lang: "json" } }),
    TriggerFactory.create({ id: "t", name: "later", type: TriggerType.FixedTime, data: { epochsList: [Date.now() + 3 * 3600 * 1000] } }),
    TriggerFactory.create({ id: "t", name: "often", type: TriggerType.Cron, data: { schedules: ["*/5 * * * *"] } }),
    TriggerFactory.create({ id: "t", name: "blocks", type: TriggerType.Block, data: { interval: 5 } }),
    TriggerFactory.create({ id: "t", name: "transfers", type: TriggerType.Event, data: { queries: [{ addresses: [token], topics: [TRANSFER] }] } }),
  ];
  for (const trigger of triggers) {
    const id = await client.submitWorkflow(workflowWith(client, runner, trigger));
    const back = await client.getWorkflow(id);
    assert.equal(back.trigger.type, trigger.type);
    assert.equal(back.trigger.name, trigger.name);
  }
  for (const type of [TriggerType.Block, TriggerType.Cron, TriggerType.FixedTime]) {
    const data = type === TriggerType.Block ? { interval: 1 } : type === TriggerType.Cron ? { schedules: ["* * * * *"] } : { epochsList: [Date.now()] };
    const result = await client.runTrigger({ trigger: { id: "t", name: "now", type, data } });
    assert.equal(result.success, true, `${type}: ${result.error}`);
  }
});

test("GraphQL, contract read, simulated write and transfer, balance: one node at a time", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const settings = { settings: { name: "nodes", runner } };

  const gql = await client.runNodeWithInputs({
    node: { id: "g", name: "query", type: NodeType.GraphQLQuery, data: { url: graphqlUrl, query: "query($who: String) { echo }", variables: { who: "ava" } } },
    inputVariables: settings,
  });
  assert.equal(gql.success, true, gql.error);
  assert.equal(JSON.stringify(gql.data).includes("ava"), true);

  const read = await client.runNodeWithInputs({
    node: { id: "r", name: "read", type: NodeType.ContractRead, data: { contractAddress: token, contractAbi: abiOf("decimals", "balanceOf"), methodCalls: [{ methodName: "decimals", methodParams: [] }, { methodName: "balanceOf", methodParams: [runner] }] } },
    inputVariables: settings,
  });
  assert.equal(read.success, true, read.error);
  assert.deepEqual(read.executionContext, { isSimulated: false, provider: "chain_rpc", chainId: 31337 });
  assert.match(JSON.stringify(read.data), /6/);

  const write = await client.runNodeWithInputs({
    node: { id: "w", name: "mint", type: NodeType.ContractWrite, data: { contractAddress: token, contractAbi: abiOf("mint"), methodCalls: [{ methodName: "mint", methodParams: [runner, "1000"] }] } },
    inputVariables: settings,
  });
  assert.equal(write.success, true, write.error);
  assert.deepEqual(write.executionContext, { isSimulated: true, provider: "tenderly", chainId: 31337 });

  await rpc("anvil_setBalance", [runner, "0x" + (10n ** 18n).toString(16)]);
  const transfer = await client.runNodeWithInputs({
    node: { id: "x", name: "pay", type: NodeType.ETHTransfer, data: { destination: "0x000000000000000000000000000000000000dEaD", amount: "1" } },
    inputVariables: settings,
  });
  assert.equal(transfer.success, true, transfer.error);

  const balance = await client.runNodeWithInputs({
    node: { id: "b", name: "holdings", type: NodeType.Balance, data: { address: runner, chain: "31337", includeZeroBalances: true, tokenAddresses: [token] } },
    inputVariables: settings,
  });
  assert.equal(balance.success, true, balance.error);
});

test("a workflow reads and writes a contract through a real UserOp, run by triggerWorkflow", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const trigger = TriggerFactory.create({ id: "t", name: "go", type: TriggerType.Manual, data: { data: {}, lang: "json" } });
  const read = NodeFactory.create({ id: "r", name: "before", type: NodeType.ContractRead, data: { contractAddress: token, contractAbi: abiOf("balanceOf"), methodCalls: [{ methodName: "balanceOf", methodParams: ["{{settings.runner}}"] }] } });
  const write = NodeFactory.create({ id: "w", name: "mint", type: NodeType.ContractWrite, data: { contractAddress: token, contractAbi: abiOf("mint"), methodCalls: [{ methodName: "mint", methodParams: ["{{settings.runner}}", "5000000"] }] } });
  const id = await client.submitWorkflow(
    workflowWith(client, runner, trigger, [read, write], [
      new Edge({ id: "e1", source: "t", target: "r" }),
      new Edge({ id: "e2", source: "r", target: "w" }),
    ]),
  );
  const done = await client.triggerWorkflow({ id, triggerData: { type: TriggerType.Manual, data: {} }, isBlocking: true });
  assert.equal(done.status, ExecutionStatus.Success, JSON.stringify(done));
  const execution = await client.getExecution(id, done.executionId);
  const mint = execution.steps.find((s) => s.name === "mint");
  assert.match(JSON.stringify(mint), /0x[0-9a-f]{64}/);
});
