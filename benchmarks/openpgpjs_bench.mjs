// Times OpenPGP.js v6 encrypt/decrypt in-process for benchmarks/peers.py.
//
//   node benchmarks/openpgpjs_bench.mjs <node_modules dir> <rounds> <size> [<size> ...]
//
// One v6 Curve25519 key (RFC 9580: X25519 PKESK v6, SEIPDv2), AES-256-GCM, binary
// output, random (incompressible) data. Prints one JSON object on stdout: median seconds
// per call for each size and op, measured after one warm-up call. Node's own start-up is
// not included (it is the library that is compared).
import { randomBytes } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, roundsArg, ...sizeArgs] = process.argv.slice(2);
const openpgp = await import(
  pathToFileURL(path.join(modules, "openpgp", "dist", "node", "openpgp.mjs")).href
);
const rounds = Number(roundsArg);

const config = {
  v6Keys: true,
  aeadProtect: true,
  preferredAEADAlgorithm: openpgp.enums.aead.gcm,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
};
const { privateKey, publicKey } = await openpgp.generateKey({
  type: "curve25519",
  userIDs: [{ name: "Bench", email: "bench@example.org" }],
  format: "object",
  config,
});

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn) {
  await fn(); // warm-up
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(samples);
}

const results = [];
for (const arg of sizeArgs) {
  const size = Number(arg);
  const data = new Uint8Array(randomBytes(size));
  const encrypt = async () =>
    openpgp.encrypt({
      message: await openpgp.createMessage({ binary: data }),
      encryptionKeys: publicKey,
      format: "binary",
      config,
    });
  const sealed = await encrypt();
  const decrypt = async () =>
    openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: sealed }),
      decryptionKeys: privateKey,
      format: "binary",
      config,
    });
  const { data: opened } = await decrypt();
  if (Buffer.compare(Buffer.from(opened), Buffer.from(data)) !== 0) {
    throw new Error(`OpenPGP.js round trip failed at ${size} bytes`);
  }
  results.push({ op: "encrypt", bytes: size, seconds: await time(encrypt) });
  results.push({ op: "decrypt", bytes: size, seconds: await time(decrypt) });
}
process.stdout.write(JSON.stringify({ version: openpgp.config.versionString, results }));
