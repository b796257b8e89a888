// What OpenPGP.js makes of a certificate after subkey rotation:
// node rotated.mjs <request.json>; request {cert: path, output: path}.
// Writes {fingerprint, encryptionKey, subkeys: [{fingerprint, expires, valid}]}:
// expires in seconds since the epoch (null: never), valid = subkey.verify() passed.
import * as openpgp from 'openpgp';
import { readFileSync, writeFileSync } from 'node:fs';

const req = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bytes = new Uint8Array(readFileSync(req.cert));
const armored = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP');
const key = armored
  ? await openpgp.readKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
  : await openpgp.readKey({ binaryKey: bytes });
const subkeys = [];
for (const sub of key.getSubkeys()) {
  const when = await sub.getExpirationTime();
  let valid = true;
  try {
    await sub.verify();
  } catch {
    valid = false;
  }
  subkeys.push({
    fingerprint: sub.getFingerprint().toUpperCase(),
    expires: when === Infinity || when === null ? null : Math.floor(when.getTime() / 1000),
    valid,
  });
}
const enc = await key.getEncryptionKey();
writeFileSync(req.output, JSON.stringify({
  fingerprint: key.getFingerprint().toUpperCase(),
  version: key.keyPacket.version,
  encryptionKey: enc.getFingerprint().toUpperCase(),
  subkeys,
}));
