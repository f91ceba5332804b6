#!/usr/bin/env node
// Compile our Solidity (contracts/*.sol, contracts/eigenlayer/*.sol) with the solcjs in node_modules and write
// contracts/artifacts/<Name>.json = {abi, bytecode}. Output is deterministic: fixed compiler
// (package-lock), fixed settings, no metadata hash in the bytecode, stable JSON formatting.
//
//   node scripts/compile_contracts.mjs          write the artifacts
//   node scripts/compile_contracts.mjs --check  exit 1 when the committed artifacts are stale
//
// Imports of @account-abstraction/... and @openzeppelin/... resolve from node_modules.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const contractsDir = path.join(root, "contracts");
const artifactsDir = path.join(contractsDir, "artifacts");
const nodeModules = path.join(root, "node_modules");

// Contracts whose artifacts we keep: our own, plus the proxy (its creation code gives the
// account address off-chain).
const WANTED = {
  "contracts/ApSmartAccount.sol": ["ApSmartAccount"],
  "contracts/ApSmartAccountFactory.sol": ["ApSmartAccountFactory"],
  "contracts/TestToken.sol": ["TestToken"],
  "contracts/TestPriceFeed.sol": ["TestPriceFeed"],
  // Local-chain stand-ins for the EigenLayer pieces the eigensdk wheel has no bytecode for.
  "contracts/eigenlayer/DevPauserRegistry.sol": ["DevPauserRegistry"],
  "contracts/eigenlayer/DevEigenPodManager.sol": ["DevEigenPodManager"],
  "contracts/eigenlayer/DevStrategy.sol": ["DevStrategy"],
  "contracts/eigenlayer/DevAvsRegistrar.sol": ["DevAvsRegistrar"],
  "contracts/eigenlayer/DevProxyPlaceholder.sol": ["DevProxyPlaceholder"],
  "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol": ["ERC1967Proxy"],
};

function readImport(importPath) {
  if (importPath.startsWith("@account-abstraction/") || importPath.startsWith("@openzeppelin/")) {
    const file = path.join(nodeModules, importPath);
    if (!file.startsWith(nodeModules + path.sep)) return { error: `bad import ${importPath}` };
    if (!fs.existsSync(file)) return { error: `${importPath} not found; run npm ci` };
    return { contents: fs.readFileSync(file, "utf8") };
  }
  if (importPath.startsWith("contracts/")) {
    const file = path.join(root, importPath);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, "utf8") };
  }
  return { error: `cannot resolve import ${importPath}` };
}

const sources = {};
for (const unit of Object.keys(WANTED)) {
  const found = readImport(unit);
  if (found.error) {
    console.error(found.error);
    process.exit(1);
  }
  sources[unit] = { content: found.contents };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "paris",
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport }));
let failed = false;
for (const diag of output.errors ?? []) {
  if (diag.severity === "error") failed = true;
  console.error(diag.formattedMessage ?? diag.message);
}
if (failed) process.exit(1);

const check = process.argv.includes("--check");
fs.mkdirSync(artifactsDir, { recursive: true });
let stale = 0;
for (const [unit, names] of Object.entries(WANTED)) {
  for (const name of names) {
    const compiled = output.contracts?.[unit]?.[name];
    if (!compiled) {
      console.error(`missing ${unit}:${name} in compiler output`);
      process.exit(1);
    }
    const artifact = { abi: compiled.abi, bytecode: "0x" + compiled.evm.bytecode.object };
    const text = JSON.stringify(artifact, null, 2) + "\n";
    const file = path.join(artifactsDir, `${name}.json`);
    if (check) {
      const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      if (current !== text) {
        console.error(`stale: ${path.relative(root, file)}`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(root, file)} (${(artifact.bytecode.length - 2) / 2} bytes)`);
    }
  }
}
if (stale) {
  console.error("contract artifacts are stale: run node scripts/compile_contracts.mjs");
  process.exit(1);
}
console.log(`solc ${solc.version()}`);
