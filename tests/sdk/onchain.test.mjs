// On-chain RPCs through the SDK on the devnet: token metadata, fee estimates, withdrawals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerType, NodeType } from "@avaprotocol/types";
import { rpc, signedIn } from "./helpers.mjs";

const token = process.env.AVS_TOKEN; // a devnet ERC-20 (TUSD, 6 decimals)

test("token metadata: listed token, native token, bad address", async () => {
  const { client } = await signedIn();
  const listed = await client.getTokenMetadata({ address: token });
  assert.equal(listed.found, true);
  assert.equal(listed.token.symbol, "TUSD");
  assert.equal(listed.token.decimals, 6);
  const native = await client.getTokenMetadata({ address: "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE" });
  assert.equal(native.token.symbol, "ETH");
  await assert.rejects(client.getTokenMetadata({ address: "nope" }), /invalid token address format/);
});

test("estimate fees for a workflow with an ETH transfer from an undeployed wallet", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const now = Date.now();
  const fees = await client.estimateFees({
    trigger: { id: "t", name: "go", type: TriggerType.Manual, data: { data: {}, lang: "json" } },
    nodes: [
      { id: "n", name: "pay", type: NodeType.ETHTransfer, data: { destination: "0x000000000000000000000000000000000000dEaD", amount: "1000" } },
    ],
    runner,
    inputVariables: { settings: { name: "fees", runner } },
    createdAt: now,
    expireAt: now + 86_400_000,
  });
  assert.equal(fees.success, true, JSON.stringify(fees));
  assert.ok(fees.cogs.some((c) => c.costType === "wallet_creation" || c.nodeId === "_wallet_creation"), JSON.stringify(fees.cogs));
});

test("withdraw ETH from the smart wallet", async () => {
  const { client, wallet } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  await rpc("anvil_setBalance", [runner, "0x" + (10n ** 18n).toString(16)]);
  const result = await client.withdrawFunds({
    recipientAddress: wallet.address,
    amount: "1000000000000000",
    token: "ETH",
    smartWalletAddress: runner,
  });
  assert.equal(result.success, true, JSON.stringify(result));
  assert.ok(["confirmed", "pending"].includes(result.status));
  const balance = BigInt(await rpc("eth_getBalance", [wallet.address, "latest"]));
  assert.equal(balance, 10n ** 15n);
});
