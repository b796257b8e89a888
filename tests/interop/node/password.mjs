// Password-based OpenPGP with OpenPGP.js, for the password interop tests:
//   node password.mjs encrypt <password> <aead: none|gcm|ocb> <s2k: iterated|argon2> IN OUT
//   node password.mjs decrypt <password> IN OUT
// encrypt with aead "none" writes a v4 SKESK and SEIPDv1; otherwise a v6 SKESK and
// SEIPDv2 with that AEAD mode.
import * as openpgp from 'openpgp';
import { readFileSync, writeFileSync } from 'node:fs';

const [op, password, ...rest] = process.argv.slice(2);

async function main() {
  if (op === 'encrypt') {
    const [aead, s2k, input, output] = rest;
    const config = { s2kType: openpgp.enums.s2k[s2k], aeadProtect: aead !== 'none' };
    if (aead !== 'none') {
      config.preferredAEADAlgorithm = openpgp.enums.aead[aead];
    }
    const message = await openpgp.createMessage({ binary: new Uint8Array(readFileSync(input)) });
    const out = await openpgp.encrypt({ message, passwords: [password], format: 'binary', config });
    writeFileSync(output, Buffer.from(out));
  } else if (op === 'decrypt') {
    const [input, output] = rest;
    const bytes = new Uint8Array(readFileSync(input));
    const text = Buffer.from(bytes.subarray(0, 40)).toString('latin1');
    const message = text.includes('-----BEGIN PGP')
      ? await openpgp.readMessage({ armoredMessage: Buffer.from(bytes).toString('utf8') })
      : await openpgp.readMessage({ binaryMessage: bytes });
    const { data } = await openpgp.decrypt({ message, passwords: [password], format: 'binary' });
    writeFileSync(output, Buffer.from(data));
  } else {
    throw new Error(`unknown op ${op}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
