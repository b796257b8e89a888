// Drives OpenPGP.js signatures for the interop tests: node sign.mjs <request.json>
// request: {op: "sign"|"verify"|"encrypt-sign"|"decrypt-verify", ...}; files are paths.
// "verify" and "decrypt-verify" write JSON: {data: hex, signatures: [{keyID, valid}]}.
import * as openpgp from 'openpgp';
import { readFileSync, writeFileSync } from 'node:fs';

const req = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function isArmored(bytes) {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP');
}

async function readKey(path, secret) {
  const bytes = new Uint8Array(readFileSync(path));
  const armored = isArmored(bytes);
  if (secret) {
    return armored
      ? openpgp.readPrivateKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
      : openpgp.readPrivateKey({ binaryKey: bytes });
  }
  return armored
    ? openpgp.readKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
    : openpgp.readKey({ binaryKey: bytes });
}

async function readMessage(bytes) {
  return isArmored(bytes)
    ? openpgp.readMessage({ armoredMessage: Buffer.from(bytes).toString('utf8') })
    : openpgp.readMessage({ binaryMessage: bytes });
}

async function verdicts(signatures) {
  const out = [];
  for (const s of signatures) {
    let valid = false;
    try {
      valid = await s.verified;
    } catch (e) {
      valid = false;
    }
    out.push({ keyID: s.keyID.toHex(), valid });
  }
  return out;
}

async function main() {
  const input = new Uint8Array(readFileSync(req.input));
  if (req.op === 'sign') {
    const signingKeys = [await readKey(req.key, true)];
    const message = await openpgp.createMessage({ binary: input });
    const format = req.armor ? 'armored' : 'binary';
    const out = await openpgp.sign({ message, signingKeys, format, detached: !!req.detached });
    writeFileSync(req.output, req.armor ? out : Buffer.from(out));
  } else if (req.op === 'encrypt-sign') {
    const signingKeys = [await readKey(req.key, true)];
    const encryptionKeys = [await readKey(req.cert, false)];
    const message = await openpgp.createMessage({ binary: input });
    const out = await openpgp.encrypt({ message, encryptionKeys, signingKeys, format: 'binary' });
    writeFileSync(req.output, Buffer.from(out));
  } else if (req.op === 'verify') {
    const verificationKeys = [await readKey(req.cert, false)];
    let result;
    if (req.signature) {
      const sigBytes = new Uint8Array(readFileSync(req.signature));
      const signature = isArmored(sigBytes)
        ? await openpgp.readSignature({ armoredSignature: Buffer.from(sigBytes).toString('utf8') })
        : await openpgp.readSignature({ binarySignature: sigBytes });
      const message = await openpgp.createMessage({ binary: input });
      result = await openpgp.verify({ message, signature, verificationKeys, format: 'binary' });
    } else {
      const message = await readMessage(input);
      result = await openpgp.verify({ message, verificationKeys, format: 'binary' });
    }
    writeFileSync(req.output, JSON.stringify({
      data: Buffer.from(result.data).toString('hex'), signatures: await verdicts(result.signatures),
    }));
  } else if (req.op === 'decrypt-verify') {
    const decryptionKeys = [await readKey(req.key, true)];
    const verificationKeys = [await readKey(req.cert, false)];
    const message = await readMessage(input);
    const result = await openpgp.decrypt({ message, decryptionKeys, verificationKeys, format: 'binary' });
    writeFileSync(req.output, JSON.stringify({
      data: Buffer.from(result.data).toString('hex'), signatures: await verdicts(result.signatures),
    }));
  } else {
    throw new Error(`unknown op ${req.op}`);
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
