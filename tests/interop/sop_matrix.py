"""The pairwise Stateless OpenPGP interop matrix (draft-dkg-openpgp-stateless-cli).

Four implementations are driven through the same SOP command line: ``e2ee-sop``
(``python -m e2ee_mail.sop``), ``sqop`` (Sequoia), ``gosop`` (GopenPGP) and
``pysequoia`` (Sequoia's Python binding, through ``pysequoia_sop.py``). Every ordered
pair plays every cell: the *producer* (B) encrypts or signs with keys it generated,
the *consumer* (A) decrypts or verifies with keys it generated. Cells:

* ``encrypt-sign``: B ``encrypt --sign-with`` to A's certificate; A ``decrypt
  --verify-with`` gets the plaintext and a VERIFICATIONS line naming B's primary key.
* ``sign-verify``: B ``sign`` (detached); A ``verify`` names B's primary key.
* ``sign-text``: B ``sign --as=text`` over LF lines; A ``verify`` over the same lines
  with CRLF (text mode signs the canonical form).
* ``altered``: A ``verify`` of B's signature over changed data exits 3 NO_SIGNATURE.
* ``inline-binary``, ``inline-text``, ``inline-clearsigned``: B ``inline-sign --as``;
  A ``inline-verify`` gets the text back and names B's primary key.
* ``armor``: B ``armor`` A's binary certificate and signature; A ``dearmor`` gives
  the same bytes.
* ``session-key``: A ``decrypt --session-key-out`` on B's message to A; B ``decrypt
  --with-session-key`` with that session key gets the plaintext.
* ``password``: B ``encrypt --with-password``; A ``decrypt --with-password`` gets
  the plaintext.
* ``unsigned``: A ``decrypt --verify-with`` of B's unsigned message exits 0 with the
  plaintext and empty VERIFICATIONS.
* ``wrong-key``: A ``decrypt`` of B's message with a key it was not sent to exits 29
  CANNOT_DECRYPT.
* ``encrypt-sign@P``, ``sign-verify@P`` for P in :data:`PROFILES`: the same with
  keys of that ``generate-key --profile`` (the consumer must list the profile in
  ``list-profiles generate-key``, or, without profiles, make keys of its version by
  default; the producer uses its own key of that profile when it lists it, its
  default key otherwise).

A cell is skipped only when a peer says it cannot do a step: exit 69
UNSUPPORTED_SUBCOMMAND or 37 UNSUPPORTED_OPTION; the reason names the peer, its
version, the command and the answer. An implementation of an older draft is adapted
to where the drafts renamed things (``decrypt --verify-out`` became
``--verifications-out``). A cell that fails where one side's key follows a profile the
failing peer does not list (a peer older than RFC 9580 meeting a v6 key) is an
expected failure naming both, and so is a failure that is one of the peers'
:data:`KNOWN_DEFECTS`. Everything else that goes wrong fails the cell with the
command, what was expected and what came back.

The keys are made once per :class:`Matrix`, and what a producer makes independently of
its consumer (a detached signature, an inline-signed text) is made once and shared by
all consumers, to keep the whole matrix well under two minutes.

``python -m tests.interop.sop_matrix --table`` runs the matrix and prints it as
Markdown; ``tests/interop/test_sop_matrix.py`` runs it under pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# Run as ``python -m tests.interop.sop_matrix``, the test helpers are not on the path
# the way pytest puts them there.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from peers import peer_version  # noqa: E402

import e2ee_mail  # noqa: E402

IMPLEMENTATIONS = ("e2ee-sop", "sqop", "gosop", "pysequoia")
#: The key profiles with cells of their own: the two of the draft's examples, and
#: the post-quantum one where both sides name it so.
PROFILES = ("rfc4880", "rfc9580", "mlkem768-x25519")
#: The draft's names for the exit codes the matrix meets.
EXIT_NAMES = {
    1: "a generic error",
    3: "NO_SIGNATURE",
    13: "UNSUPPORTED_ASYMMETRIC_ALGO",
    17: "CERT_CANNOT_ENCRYPT",
    19: "MISSING_ARG",
    23: "INCOMPLETE_VERIFICATION",
    29: "CANNOT_DECRYPT",
    37: "UNSUPPORTED_OPTION",
    41: "BAD_DATA",
    53: "EXPECTED_TEXT",
    59: "OUTPUT_EXISTS",
    61: "MISSING_INPUT",
    69: "UNSUPPORTED_SUBCOMMAND",
    79: "KEY_CANNOT_SIGN",
    89: "UNSUPPORTED_PROFILE",
}
NO_SIGNATURE = 3
CANNOT_DECRYPT = 29
CANNOT_DO = (37, 69)

#: The draft's timestamps: ISO 8601, UTC, to the second or the minute.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?(Z|\+00:?00)")
PLAIN = b"sop matrix \x00\x01\xfe\xff binary body\r\n" * 64
TEXT = b"Hello from the SOP matrix.\n- a line starting with a dash\nFrom here on.\n"


class Skip(Exception):
    """A peer answered that it cannot do a step of the cell (69 or 37)."""


class Gap(Exception):
    """An expected failure: a peer met a key of a profile it does not list, or
    showed one of its :data:`KNOWN_DEFECTS`."""


class Failure(AssertionError):
    """The cell failed: a command's answer was not the draft's."""

    def __init__(
        self, message: str, sop: Sop | None = None, kind: str = "", step: str = ""
    ) -> None:
        super().__init__(message)
        self.sop = sop
        #: The failing step without file names, where it is a command's exit.
        self.step = step or message
        #: What went wrong, as :data:`KNOWN_DEFECTS` names it ("" for anything else).
        self.kind = kind


#: Defects of the peers as installed, seen in this matrix: (implementation, what went
#: wrong) -> the defect. A cell failing with one of them is an expected failure
#: naming the peer, its version and the defect, whoever its partner is; any other
#: failure fails. Each is recognised by what came back, not assumed from a version.
KNOWN_DEFECTS = {
    ("gosop", "decrypt-as-text"): (
        "`decrypt` writes the plaintext as text: each run of bytes that are not "
        "UTF-8 becomes one U+FFFD and CRLF becomes LF"
    ),
    ("gosop", "decrypt-exit-99"): (
        "`decrypt` with a key the message is not for exits 99, not 29 CANNOT_DECRYPT"
    ),
    ("sqop", "decrypt-unsigned-exit-3"): (
        "`decrypt --verify-with` of a message without a good signature exits 3; "
        "the draft leaves decrypt's exit to the decryption (the VERIFICATIONS say "
        "what verified)"
    ),
    ("gosop", "decrypt-unsigned-exit-99"): (
        "`decrypt --verify-with` of a message without a good signature exits 99; "
        "the draft leaves decrypt's exit to the decryption"
    ),
    ("gosop", "armor-alters"): (
        "`armor` re-encodes a certificate instead of wrapping its bytes "
        "(a direct-key signature is dropped)"
    ),
}


def _file_name(path: str) -> str:
    return re.sub(r"^\d+-", "", Path(path).name)


def exit_name(code: int) -> str:
    return f"{code} {EXIT_NAMES.get(code, '')}".strip()


@dataclasses.dataclass
class Sop:
    """One implementation's SOP command line."""

    name: str
    argv: tuple[str, ...]
    work: Path

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "PYTHONPATH": str(Path(e2ee_mail.__file__).parent.parent)}
        env.pop("RUST_BACKTRACE", None)
        return subprocess.run(
            [*self.argv, *args],
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
            cwd=self.work,
            env=env,
        )

    def call(self, *args: str, stdin: bytes = b"") -> bytes:
        """Run a step that must succeed; its stdout. 69 or 37 skips the cell."""
        proc = self.run(*args, stdin=stdin)
        if proc.returncode == 0:
            return proc.stdout
        if proc.returncode in CANNOT_DO:
            raise Skip(
                f"{self.version} answers {exit_name(proc.returncode)} to "
                f"`{self.brief(args)}`"
            )
        raise Failure(
            f"`{self.show(args)}`: expected exit 0, got "
            f"{exit_name(proc.returncode)}: {self.said(proc)}",
            self,
            step=f"`{self.brief(args)}` exits {exit_name(proc.returncode)}: "
            f"{self.said(proc)}",
        )

    def refuse(self, code: int, *args: str, stdin: bytes = b"") -> None:
        """Run a step that must fail with exit ``code``."""
        proc = self.run(*args, stdin=stdin)
        if proc.returncode == code:
            return
        if proc.returncode in CANNOT_DO:
            raise Skip(
                f"{self.version} answers {exit_name(proc.returncode)} to "
                f"`{self.brief(args)}`"
            )
        raise Failure(
            f"`{self.show(args)}`: expected exit {exit_name(code)}, got "
            f"{exit_name(proc.returncode)}: {self.said(proc)}",
            self,
            f"{args[0]}-exit-{proc.returncode}",
            f"`{self.brief(args)}` exits {exit_name(proc.returncode)}",
        )

    def brief(self, args: Sequence[str]) -> str:
        """The subcommand and its options, without file names: the same for every
        cell that asks the same of this implementation."""
        shown = [self.name]
        for arg in args:
            name, eq, value = arg.partition("=")
            if arg.startswith("--"):
                shown.append(name if eq and "/" in value else arg)
            elif "/" not in arg:
                shown.append(arg)
        return " ".join(shown)

    def show(self, args: Sequence[str]) -> str:
        """The command as a reader would type it: files by their names (without
        the matrix's serial numbers), so that the same step reads the same."""
        shown = [self.name]
        for arg in args:
            name, eq, value = arg.partition("=")
            if eq and "/" in value:
                arg = f"{name}={_file_name(value)}"
            elif arg.startswith("/"):
                arg = _file_name(arg)
            shown.append(arg)
        return " ".join(shown)

    @staticmethod
    def said(proc: subprocess.CompletedProcess[bytes]) -> str:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return " / ".join(line.strip() for line in lines[:3]) or "(nothing on stderr)"

    @functools.cached_property
    def version(self) -> str:
        """``version`` and ``version --backend``, as tests/peers.py shows peers."""
        main = self._first_line("version")
        backend = self._first_line("version", "--backend")
        return f"{main} ({backend})" if backend != "?" else main

    def _first_line(self, *args: str) -> str:
        proc = self.run(*args)
        lines = proc.stdout.decode(errors="replace").strip().splitlines()
        return lines[0].strip() if proc.returncode == 0 and lines else "?"

    @functools.cached_property
    def profile_answer(self) -> tuple[tuple[str, ...], str]:
        """The profiles ``list-profiles generate-key`` names, and how it answered."""
        proc = self.run("list-profiles", "generate-key")
        if proc.returncode != 0:
            return (), f"answers {exit_name(proc.returncode)} to `list-profiles`"
        names = tuple(
            line.split(":")[0].strip()
            for line in proc.stdout.decode(errors="replace").splitlines()
            if line.strip()
        )
        return names, f"lists generate-key profiles {', '.join(names) or '(none)'}"

    def lists(self, profile: str) -> bool:
        return profile in self.profile_answer[0]

    @functools.cached_property
    def verifications_out(self) -> str:
        """The name of ``decrypt``'s VERIFICATIONS output option.

        Drafts before ``--verifications-out`` called it ``--verify-out``; an
        implementation of those rejects the new name as an unknown option (often
        with a usage error, not 37) and takes the old one.
        """
        probe = self.work / f"{self.name}-verifications-probe"
        new = self.run("decrypt", f"--verifications-out={probe}").returncode
        if new in (1, 2, 37):
            old = self.run("decrypt", f"--verify-out={probe}").returncode
            if old not in (1, 2, 37):
                return "--verify-out"
        return "--verifications-out"

    @functools.cached_property
    def notes(self) -> list[str]:
        """Where this implementation follows an older draft, and how it is met."""
        found = []
        if self.verifications_out != "--verifications-out":
            found.append(
                f"{self.version}: older draft: `decrypt {self.verifications_out}` "
                "instead of `--verifications-out`"
            )
        if not self.profile_answer[0]:
            found.append(
                f"{self.version}: {self.profile_answer[1]}: no key profiles "
                "(older draft); its default keys are used"
            )
        return found


def argv_of(name: str) -> tuple[str, ...]:
    if name == "e2ee-sop":
        return (sys.executable, "-m", "e2ee_mail.sop")
    if name == "pysequoia":
        return (sys.executable, str(HERE / "pysequoia_sop.py"))
    return (name,)


def missing(name: str) -> str | None:
    """Why implementation ``name`` cannot run here, or None."""
    if name == "e2ee-sop":
        found = importlib.util.find_spec("e2ee_mail.sop") is not None
        return None if found else "e2ee_mail.sop is not in this tree"
    if peer_version(name) is None:
        return f"{name} is not installed: run scripts/install-peers"
    return None


@dataclasses.dataclass(frozen=True)
class Keys:
    """A key an implementation generated: its files and its primary fingerprint."""

    key: Path
    cert: Path
    fingerprint: str
    v6: bool


@dataclasses.dataclass(frozen=True)
class Case:
    """One cell of the matrix: producer B, consumer A, what they do."""

    producer: str
    consumer: str
    cell: str
    profile: str | None = None

    @property
    def id(self) -> str:
        suffix = f"@{self.profile}" if self.profile else ""
        return f"{self.producer}->{self.consumer}:{self.cell}{suffix}"


CellFn = Callable[["Matrix", Sop, Sop, "str | None"], None]
CELLS: dict[str, CellFn] = {}


def cell(name: str) -> Callable[[CellFn], CellFn]:
    def register(fn: CellFn) -> CellFn:
        CELLS[name] = fn
        return fn

    return register


class Matrix:
    """The implementations, their keys (made once) and what producers made."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.sops = {name: Sop(name, argv_of(name), work) for name in IMPLEMENTATIONS}
        self._memo: dict[tuple[str, ...], bytes | Keys | Exception] = {}
        self._serial = 0
        #: Where a cell's keys were chosen to meet an older peer.
        self.adaptations: set[str] = set()

    def file(self, data: bytes, name: str = "data") -> Path:
        self._serial += 1
        path = self.work / f"{self._serial:05d}-{name}"
        path.write_bytes(data)
        return path

    def fresh(self, name: str) -> Path:
        """A path no file has yet (SOP refuses to overwrite outputs)."""
        self._serial += 1
        return self.work / f"{self._serial:05d}-{name}"

    def _memoized(
        self, key: tuple[str, ...], make: Callable[[], bytes | Keys]
    ) -> object:
        """``make()`` once; a Skip or Failure is remembered and raised again."""
        if key not in self._memo:
            try:
                self._memo[key] = make()
            except (Skip, Failure) as exc:
                self._memo[key] = exc
        found = self._memo[key]
        if isinstance(found, Exception):
            raise found
        return found

    def keys(self, sop: Sop, profile: str | None, role: str = "main") -> Keys:
        """``sop``'s key of ``profile`` (None: its default)."""

        def make() -> Keys:
            label = f"{sop.name}-{profile or 'default'}-{role}"
            args = ["generate-key"] + ([f"--profile={profile}"] if profile else [])
            key = sop.call(*args, f"{label} <{label}@example.org>")
            cert = sop.call("extract-cert", stdin=key)
            fpr = e2ee_mail.load_certificate(cert).fingerprint.upper()
            keypath, certpath = (
                self.file(key, f"{label}.key"),
                self.file(cert, f"{label}.cert"),
            )
            return Keys(keypath, certpath, fpr, len(fpr) == 64)

        found = self._memoized(("keys", sop.name, profile or "", role), make)
        assert isinstance(found, Keys)
        return found

    def key_profile(self, sop: Sop, partner: Sop, profile: str | None) -> str | None:
        """Which of ``sop``'s keys a cell with ``partner`` uses (None: the default).

        A profile cell uses that profile's key where ``sop`` lists it. A cell without
        one uses the default key, except that against a peer which predates RFC 9580
        (it lists no rfc9580 profile) a v6 default is replaced by the rfc4880 key:
        the cell then tests the feature, and the ``@rfc9580`` cells test v6.
        """
        if profile:
            return profile if sop.lists(profile) else None
        if (
            not partner.lists("rfc9580")
            and sop.lists("rfc4880")
            and self.keys(sop, None).v6
        ):
            self.adaptations.add(
                f"against {partner.version}, which {partner.profile_answer[1]} "
                f"(predates RFC 9580), {sop.name} uses its rfc4880 key in the cells "
                "without a profile"
            )
            return "rfc4880"
        return None

    def producer_keys(self, sop: Sop, partner: Sop, profile: str | None) -> Keys:
        return self.keys(sop, self.key_profile(sop, partner, profile))

    def consumer_keys(
        self, sop: Sop, partner: Sop, profile: str | None, role: str = "main"
    ) -> Keys:
        """The consumer's key; a profile cell needs a key of that profile."""
        chosen = self.key_profile(sop, partner, profile)
        keys = self.keys(sop, chosen, role)
        # A peer without profiles still makes v4 or v6 keys by default.
        by_version = {"rfc4880": not keys.v6, "rfc9580": keys.v6}
        if profile and chosen != profile and not by_version.get(profile, False):
            raise Skip(
                f"{sop.version} {sop.profile_answer[1]}: no {profile} key "
                f"(its default key is v{6 if keys.v6 else 4})"
            )
        return keys

    def made(self, key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
        found = self._memoized(key, make)
        assert isinstance(found, bytes)
        return found

    def run(self, case: Case) -> None:
        """Play one cell; raises Skip, Gap or Failure, or returns when it passed."""
        producer, consumer = self.sops[case.producer], self.sops[case.consumer]
        try:
            CELLS[case.cell](self, producer, consumer, case.profile)
        except Failure as failure:
            gap = self._gap(failure, producer, consumer, case.profile)
            if gap:
                raise Gap(f"{gap}: {failure.step}") from failure
            sop = failure.sop
            defect = KNOWN_DEFECTS.get((sop.name, failure.kind)) if sop else None
            if sop and defect:
                raise Gap(f"{sop.version}: known defect: {defect}") from failure
            raise

    def _gap(
        self, failure: Failure, producer: Sop, consumer: Sop, profile: str | None
    ) -> str | None:
        """Why the failure is a peer meeting a v6 key it predates, or None."""
        failing = failure.sop
        if failing is None or failing.lists("rfc9580"):
            return None
        other = consumer if failing is producer else producer
        try:
            theirs = self.keys(other, self.key_profile(other, failing, profile))
        except (Skip, Failure):
            return None
        if not theirs.v6:
            return None
        return (
            f"{failing.version} predates RFC 9580 ({failing.profile_answer[1]}) "
            f"and meets {other.name}'s v6 key"
        )


def verified(lines: bytes, who: Keys, sop: Sop, what: str) -> None:
    """VERIFICATIONS ``lines`` name ``who``'s primary key as the signer's."""
    text = lines.decode(errors="replace")
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2].upper() == who.fingerprint:
            if not TIMESTAMP.fullmatch(fields[0]):
                raise Failure(
                    f"`{what}`: expected an ISO 8601 UTC time first, got {line!r}", sop
                )
            return
    raise Failure(
        f"`{what}`: expected a VERIFICATIONS line with primary key {who.fingerprint}, "
        f"got {text.strip()!r}",
        sop,
    )


def same(got: bytes, want: bytes, sop: Sop, what: str) -> None:
    """``got`` is ``want``; else a Failure saying how they differ."""
    if got == want:
        return
    decoded = want.decode(errors="replace").replace("\r\n", "\n")
    as_text = re.sub("\ufffd+", "\ufffd", decoded).encode()
    kind = f"{what.split()[1]}-as-text" if got == as_text != want else ""
    how = (
        "the plaintext as text (U+FFFD for non-UTF-8, LF for CRLF)"
        if kind
        else (f"{len(got)} bytes: {got[:48]!r}...")
    )
    raise Failure(
        f"`{what}`: expected the {len(want)} bytes given, got {how}", sop, kind
    )


@cell("encrypt-sign")
def encrypt_sign(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    a = m.consumer_keys(consumer, producer, profile)
    b = m.producer_keys(producer, consumer, profile)
    message = producer.call("encrypt", f"--sign-with={b.key}", str(a.cert), stdin=PLAIN)
    out = m.fresh("verifications")
    flag = consumer.verifications_out
    args = ("decrypt", f"{flag}={out}", f"--verify-with={b.cert}", str(a.key))
    plain = consumer.call(*args, stdin=message)
    if not out.exists():
        raise Failure(f"`{consumer.show(args)}`: wrote no VERIFICATIONS", consumer)
    verified(out.read_bytes(), b, consumer, consumer.show(args))
    same(plain, PLAIN, consumer, consumer.show(args))


def detached(
    m: Matrix, producer: Sop, consumer: Sop, profile: str | None
) -> tuple[Keys, bytes]:
    """``producer``'s signature over PLAIN, made once per key."""
    b = m.producer_keys(producer, consumer, profile)
    sig = m.made(
        ("sign", producer.name, b.fingerprint),
        lambda: producer.call("sign", str(b.key), stdin=PLAIN),
    )
    return b, sig


@cell("sign-verify")
def sign_verify(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    if profile:
        m.consumer_keys(consumer, producer, profile)
    b, sig = detached(m, producer, consumer, profile)
    args = ("verify", str(m.file(sig, "sig")), str(b.cert))
    verified(consumer.call(*args, stdin=PLAIN), b, consumer, consumer.show(args))


@cell("sign-text")
def sign_text(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    """A text signature made over LF lines verifies over the same lines with CRLF:
    text mode signs the canonical (CRLF) form (RFC 9580 section 5.2.1.2)."""
    b = m.producer_keys(producer, consumer, profile)
    sig = m.made(
        ("sign-text", producer.name, b.fingerprint),
        lambda: producer.call("sign", "--as=text", str(b.key), stdin=TEXT),
    )
    args = ("verify", str(m.file(sig, "text-sig")), str(b.cert))
    crlf = TEXT.replace(b"\n", b"\r\n")
    verified(consumer.call(*args, stdin=crlf), b, consumer, consumer.show(args))


@cell("altered")
def altered(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    b, sig = detached(m, producer, consumer, profile)
    changed = PLAIN[:-1] + bytes([PLAIN[-1] ^ 1])
    consumer.refuse(
        NO_SIGNATURE, "verify", str(m.file(sig, "sig")), str(b.cert), stdin=changed
    )


def inline(mode: str) -> CellFn:
    def play(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
        b = m.producer_keys(producer, consumer, profile)
        signed = m.made(
            ("inline", producer.name, b.fingerprint, mode),
            lambda: producer.call(
                "inline-sign", f"--as={mode}", str(b.key), stdin=TEXT
            ),
        )
        out = m.fresh("verifications")
        args = ("inline-verify", f"--verifications-out={out}", str(b.cert))
        text = consumer.call(*args, stdin=signed)
        if mode == "clearsigned" and text.rstrip(b"\r\n") == TEXT.rstrip(b"\n"):
            # Whether the line ending before the signature block is part of the
            # text, implementations disagree (RFC 9580 section 7.1 says it is not,
            # so a text ending in one needs an empty line there); the matrix leaves
            # the final line ending aside.
            text = TEXT
        same(text, TEXT, consumer, consumer.show(args))
        verified(
            out.read_bytes() if out.exists() else b"", b, consumer, consumer.show(args)
        )

    return play


for _mode in ("binary", "text", "clearsigned"):
    cell(f"inline-{_mode}")(inline(_mode))


@cell("armor")
def armor(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    a = m.consumer_keys(consumer, producer, profile)
    _, signature = detached(m, consumer, producer, profile)
    for what, text in (("cert", a.cert.read_bytes()), ("signature", signature)):
        binary = m.made(
            ("dearmor", consumer.name, a.fingerprint, what),
            functools.partial(consumer.call, "dearmor", stdin=text),
        )
        armored = producer.call("armor", stdin=binary)
        if not armored.startswith(b"-----BEGIN PGP "):
            raise Failure(
                f"`{producer.name} armor` of a {what}: got {armored[:40]!r}", producer
            )
        back = consumer.call("dearmor", stdin=armored)
        if back != binary and producer.call("dearmor", stdin=armored) == back:
            raise Failure(
                f"`{producer.name} armor` of {consumer.name}'s {len(binary)}-byte "
                f"binary {what}: dearmored, {len(back)} bytes",
                producer,
                "armor-alters",
            )
        same(
            back,
            binary,
            consumer,
            f"{consumer.name} dearmor (armor by {producer.name})",
        )


@cell("session-key")
def session_key(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    a = m.consumer_keys(consumer, producer, profile)
    message = to_consumer(m, producer, consumer, a)
    sk = m.fresh("session-key")
    args = ("decrypt", f"--session-key-out={sk}", str(a.key))
    same(consumer.call(*args, stdin=message), PLAIN, consumer, consumer.show(args))
    if not sk.exists() or not sk.read_bytes().strip():
        raise Failure(f"`{consumer.show(args)}`: wrote no session key", consumer)
    reuse = ("decrypt", f"--with-session-key={sk}")
    same(producer.call(*reuse, stdin=message), PLAIN, producer, producer.show(reuse))


def to_consumer(m: Matrix, producer: Sop, consumer: Sop, a: Keys) -> bytes:
    """``producer``'s unsigned message to ``a`` (made once per pair)."""
    return m.made(
        ("encrypt", producer.name, consumer.name, a.fingerprint),
        lambda: producer.call("encrypt", str(a.cert), stdin=PLAIN),
    )


@cell("password")
def password(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    """``encrypt --with-password`` by B, ``decrypt --with-password`` by A."""
    secret = m.made(("password",), lambda: b"correct horse battery staple")
    pw = m.file(secret, "password")
    message = m.made(
        ("encrypt-password", producer.name),
        lambda: producer.call("encrypt", f"--with-password={pw}", stdin=PLAIN),
    )
    args = ("decrypt", f"--with-password={m.file(secret, 'password')}")
    same(consumer.call(*args, stdin=message), PLAIN, consumer, consumer.show(args))


@cell("unsigned")
def unsigned(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    """``decrypt --verify-with`` of an unsigned message still decrypts: its exit is
    not the verification's, and the VERIFICATIONS are empty."""
    a = m.consumer_keys(consumer, producer, profile)
    b = m.producer_keys(producer, consumer, profile)
    message = to_consumer(m, producer, consumer, a)
    out = m.fresh("verifications")
    flag = consumer.verifications_out
    args = ("decrypt", f"{flag}={out}", f"--verify-with={b.cert}", str(a.key))
    proc = consumer.run(*args, stdin=message)
    if proc.returncode in CANNOT_DO:
        consumer.call(*args, stdin=message)  # raises the Skip naming the answer
    if proc.returncode != 0:
        raise Failure(
            f"`{consumer.show(args)}`: expected exit 0 (an unsigned message still "
            f"decrypts), got {exit_name(proc.returncode)}: {consumer.said(proc)}",
            consumer,
            f"decrypt-unsigned-exit-{proc.returncode}",
        )
    same(proc.stdout, PLAIN, consumer, consumer.show(args))
    lines = out.read_bytes() if out.exists() else b""
    if lines.strip():
        raise Failure(
            f"`{consumer.show(args)}`: expected empty VERIFICATIONS, got {lines!r}",
            consumer,
        )


@cell("wrong-key")
def wrong_key(m: Matrix, producer: Sop, consumer: Sop, profile: str | None) -> None:
    a = m.consumer_keys(consumer, producer, profile)
    message = to_consumer(m, producer, consumer, a)
    stranger = m.consumer_keys(consumer, producer, profile, role="stranger")
    consumer.refuse(CANNOT_DECRYPT, "decrypt", str(stranger.key), stdin=message)


#: The cells, in table order; a name with ``@profile`` runs with that profile's keys.
CELL_ORDER = (
    "encrypt-sign",
    "sign-verify",
    "sign-text",
    "altered",
    "inline-binary",
    "inline-text",
    "inline-clearsigned",
    "armor",
    "session-key",
    "password",
    "unsigned",
    "wrong-key",
    *(f"{c}@{p}" for p in PROFILES for c in ("encrypt-sign", "sign-verify")),
)


def cases() -> list[Case]:
    """Every cell of every ordered pair of two implementations."""
    found = []
    for producer in IMPLEMENTATIONS:
        for consumer in IMPLEMENTATIONS:
            if producer == consumer:
                continue
            for name in CELL_ORDER:
                base, _, profile = name.partition("@")
                found.append(Case(producer, consumer, base, profile or None))
    return found


@dataclasses.dataclass(frozen=True)
class Outcome:
    case: Case
    status: str  # "pass", "skip", "xfail" or "fail"
    reason: str = ""


def play(matrix: Matrix, case: Case) -> Outcome:
    for name in (case.producer, case.consumer):
        why = missing(name)
        if why:
            return Outcome(case, "skip", why)
    try:
        matrix.run(case)
    except Skip as exc:
        return Outcome(case, "skip", str(exc))
    except Gap as exc:
        return Outcome(case, "xfail", str(exc))
    except Failure as exc:
        return Outcome(case, "fail", str(exc))
    return Outcome(case, "pass")


def run_all(work: Path) -> Iterator[Outcome]:
    matrix = Matrix(work)
    for case in cases():
        yield play(matrix, case)


MARKS = {"pass": "pass", "skip": "skip", "xfail": "xfail", "fail": "**FAIL**"}


def table(outcomes: Sequence[Outcome], notes: Sequence[str] = ()) -> str:
    """The outcomes as a Markdown table (producer -> consumer by cell), each
    reason once as a numbered note under it."""
    reasons: dict[str, int] = {}
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for o in outcomes:
        name = o.case.cell + (f"@{o.case.profile}" if o.case.profile else "")
        mark = MARKS[o.status]
        if o.reason:
            number = reasons.setdefault(o.reason, len(reasons) + 1)
            mark += f" [{number}]"
        rows.setdefault((o.case.producer, o.case.consumer), {})[name] = mark
    columns = [c for c in CELL_ORDER if any(c in r for r in rows.values())]
    out = [
        "| producer → consumer | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for (producer, consumer), marks in rows.items():
        cells = " | ".join(marks.get(c, "") for c in columns)
        out.append(f"| {producer} → {consumer} | {cells} |")
    if reasons:
        out.append("")
        out.extend(f"{n}. {reason}" for reason, n in reasons.items())
    if notes:
        out.append("")
        out.append("Older drafts met:")
        out.append("")
        out.extend(f"* {note}" for note in notes)
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.interop.sop_matrix",
        description="Run the Stateless OpenPGP interop matrix.",
    )
    parser.add_argument(
        "--table", action="store_true", help="print the matrix as a Markdown table"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sop-matrix-") as tmp:
        matrix = Matrix(Path(tmp))
        outcomes = [play(matrix, case) for case in cases()]
        versions = [
            f"* {name}: {missing(name) or matrix.sops[name].version}"
            for name in IMPLEMENTATIONS
        ]
        notes = [
            note
            for name in IMPLEMENTATIONS
            if not missing(name)
            for note in matrix.sops[name].notes
        ]
        notes.extend(sorted(matrix.adaptations))
    if args.table:
        sys.stdout.write("Implementations:\n\n" + "\n".join(versions) + "\n\n")
        sys.stdout.write(table(outcomes, notes))
    else:
        for o in outcomes:
            print(f"{o.case.id}: {o.status}{': ' + o.reason if o.reason else ''}")
    return 1 if any(o.status == "fail" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
