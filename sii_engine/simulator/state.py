"""The simulator's memory: seeds, tokens, track ids, envelopes and registered folios.

Everything is plain JSON-able data behind one re-entrant lock; with a state
file every change is written atomically (temporary file + rename, mode 0600)
so a restarted demo keeps its tokens, track ids and received folios.
"""

import contextlib
import copy
import json
import os
import secrets
import string
import tempfile
import threading
import time
from pathlib import Path

STATE_VERSION = 1
FIRST_TRACK_ID = 1000
_TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 13  # like the SII's "XAuSbYXiNh9Ik"

SEED_OK, SEED_UNKNOWN, SEED_EXPIRED = "ok", "unknown", "expired"
TOKEN_OK, TOKEN_MISSING, TOKEN_UNKNOWN, TOKEN_INACTIVE = "ok", "missing", "unknown", "inactive"


def document_key(rut, document_type, folio):
    return f"{rut}|{int(document_type)}|{int(folio)}"


def _empty():
    return {
        "version": STATE_VERSION,
        "next_track_id": FIRST_TRACK_ID,
        "seeds": {},
        "tokens": {},
        "envelopes": {},
        "documents": {},  # accepted (or objected) documents by document_key
        "rejected": {},  # rejected documents by document_key
        "forced": {},  # forced outcomes by document_key
    }


class State:
    def __init__(self, path=None, clock=time.time):
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.clock = clock
        self.data = _empty()
        if self.path is not None and self.path.exists():
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if loaded.get("version") == STATE_VERSION:
                self.data.update(loaded)

    # --- persistence -------------------------------------------------------------

    def save(self):
        if self.path is None:
            return
        with self.lock:
            text = json.dumps(self.data, ensure_ascii=False, sort_keys=True)
            directory = self.path.parent
            directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".sii-sim-", dir=directory)
            try:
                os.fchmod(handle, 0o600)
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise

    def reset(self):
        with self.lock:
            self.data = _empty()
            self.save()

    # --- seeds and tokens ------------------------------------------------------------

    def new_seed(self, realm):
        with self.lock:
            seeds = self.data["seeds"]
            self._forget_old(seeds, "issued", 3600)
            seed = f"{secrets.randbelow(10 ** 12):012d}"
            while seed in seeds:
                seed = f"{secrets.randbelow(10 ** 12):012d}"
            seeds[seed] = {"issued": self.clock(), "realm": realm}
            self.save()
            return seed

    def take_seed(self, seed, realm, ttl):
        """Consume ``seed``: a seed is good once, for ``ttl`` seconds, in its realm."""
        with self.lock:
            record = self.data["seeds"].pop(seed, None)
            self.save()
            if record is None or record["realm"] != realm:
                return SEED_UNKNOWN
            if self.clock() - record["issued"] > ttl:
                return SEED_EXPIRED
            return SEED_OK

    def new_token(self, rut, realm):
        with self.lock:
            tokens = self.data["tokens"]
            token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
            now = self.clock()
            tokens[token] = {"rut": rut, "realm": realm, "issued": now, "last_used": now, "active": True}
            self.save()
            return token

    def check_token(self, token, realm, ttl):
        """``(verdict, holder_rut)``; a good token's idle timer restarts."""
        if not token:
            return TOKEN_MISSING, None
        with self.lock:
            record = self.data["tokens"].get(token)
            if record is None or record["realm"] != realm:
                return TOKEN_UNKNOWN, None
            now = self.clock()
            if not record["active"] or now - record["last_used"] > ttl:
                record["active"] = False
                return TOKEN_INACTIVE, record["rut"]
            record["last_used"] = now
            return TOKEN_OK, record["rut"]

    def revoke_token(self, token):
        with self.lock:
            record = self.data["tokens"].get(token)
            if record is not None:
                record["active"] = False
                self.save()

    def revoke_all_tokens(self):
        with self.lock:
            for record in self.data["tokens"].values():
                record["active"] = False
            self.save()

    def _forget_old(self, records, field, age):
        limit = self.clock() - age
        for key in [key for key, record in records.items() if record[field] < limit]:
            del records[key]

    # --- envelopes -----------------------------------------------------------------

    def next_track_id(self):
        with self.lock:
            track_id = self.data["next_track_id"]
            self.data["next_track_id"] = track_id + 1
            return track_id

    def envelope(self, track_id):
        with self.lock:
            record = self.data["envelopes"].get(str(track_id))
            return copy.deepcopy(record) if record is not None else None

    def poll(self, track_id):
        """Count one status query of the envelope; return it as it was before the query."""
        with self.lock:
            record = self.data["envelopes"].get(str(track_id))
            if record is None:
                return None
            before = copy.deepcopy(record)
            record["polls"] = record.get("polls", 0) + 1
            self.save()
            return before

    # --- documents -------------------------------------------------------------------

    def document(self, key):
        with self.lock:
            record = self.data["documents"].get(key)
            return copy.deepcopy(record) if record is not None else None

    def rejected_document(self, key):
        with self.lock:
            record = self.data["rejected"].get(key)
            return copy.deepcopy(record) if record is not None else None

    def forced(self, key):
        with self.lock:
            return copy.deepcopy(self.data["forced"].get(key))

    def set_forced(self, key, rule):
        with self.lock:
            if rule is None:
                self.data["forced"].pop(key, None)
            else:
                self.data["forced"][key] = rule
            self.save()
