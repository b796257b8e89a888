// Drives OpenPGP.js for the interop tests: node pgp.mjs <request.json>
// request: {op: "encrypt"|"decrypt"|"inspect-key"|"generate", ...}; files are paths.
import * as openpgp from 'openpgp';
import { readFileSync, writeFileSync } from 'node:fs';

const req = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function isArmored(bytes) {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP');
}

async function readKeys(paths, secret, passphrase) {
  const keys = [];
  for (const path of paths) {
    const bytes = new Uint8Array(readFileSync(path));
    let key;
    if (secret) {
      key = isArmored(bytes)
        ? await openpgp.readPrivateKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
        : await openpgp.readPrivateKey({ binaryKey: bytes });
      if (passphrase !== undefined && !key.isDecrypted()) {
        key = await openpgp.decryptKey({ privateKey: key, passphrase });
      }
    } else {
      key = isArmored(bytes)
        ? await openpgp.readKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
        : await openpgp.readKey({ binaryKey: bytes });
    }
    keys.push(key);
  }
  return keys;
}

async function main() {
  if (req.op === 'encrypt') {
    const encryptionKeys = await readKeys(req.certs, false);
    // aead "default": OpenPGP.js's own choice from our keys' Features and preferences.
    const config = req.aead === 'default' ? {} : { aeadProtect: true };
    if (req.aead && req.aead !== 'default') {
      config.preferredAEADAlgorithm = openpgp.enums.aead[req.aead];
    }
    const data = new Uint8Array(readFileSync(req.input));
    const message = await openpgp.createMessage({ binary: data });
    const out = await openpgp.encrypt({
      message, encryptionKeys, format: req.armor ? 'armored' : 'binary', config,
    });
    writeFileSync(req.output, req.armor ? out : Buffer.from(out));
  } else if (req.op === 'decrypt') {
    const decryptionKeys = await readKeys(req.keys, true, req.passphrase);
    const bytes = new Uint8Array(readFileSync(req.input));
    const message = isArmored(bytes)
      ? await openpgp.readMessage({ armoredMessage: Buffer.from(bytes).toString('utf8') })
      : await openpgp.readMessage({ binaryMessage: bytes });
    const { data } = await openpgp.decrypt({ message, decryptionKeys, format: 'binary' });
    writeFileSync(req.output, Buffer.from(data));
  } else if (req.op === 'inspect-key') {
    const [key] = await readKeys([req.key], !!req.secret, req.passphrase);
    const enc = await key.getEncryptionKey();
    const primaryUser = await key.getPrimaryUser();
    writeFileSync(req.output, JSON.stringify({
      fingerprint: key.getFingerprint().toUpperCase(),
      version: key.keyPacket.version,
      encryptionKey: enc.getFingerprint().toUpperCase(),
      userID: primaryUser.user.userID ? primaryUser.user.userID.userID : null,
      decrypted: req.secret ? key.isDecrypted() : null,
    }));
  } else if (req.op === 'generate') {
    const config = { v6Keys: true };
    if (req.passphrase !== undefined) {
      // Argon2 S2K with AEAD protection (RFC 9580 §3.7.2.1), as OpenPGP.js offers.
      config.s2kType = openpgp.enums.s2k.argon2;
      config.aeadProtect = true;
    }
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: req.type || 'curve25519', userIDs: [{ name: req.name, email: req.email }],
      format: 'armored', passphrase: req.passphrase, config,
    });
    writeFileSync(req.output + '.key', privateKey);
    writeFileSync(req.output + '.pub', publicKey);
  } else {
    throw new Error(`unknown op ${req.op}`);
  }
}

main().catch((err) => {
  process.stderr.write(`openpgp.js: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
