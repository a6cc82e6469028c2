"""DICOM de-identification: the Basic Application Level Confidentiality Profile of DICOM PS3.15 Annex E.

Every attribute of Table E.1-1 (``confidentiality_profile.tsv`` beside this module) gets its Basic
Profile action, at any depth of nested sequences: removed (X), emptied (Z), a dummy value of its
VR (D) or a new UID (U). Private attributes are removed. Where the table leaves the choice to IOD
conformance (``X/Z``, ``X/D``, ``X/Z/D``, ``Z/D``) the conformant one is taken (D, else Z), and a
sequence marked ``X/Z/U*`` is kept with the UIDs inside it replaced. UIDs are replaced by
``2.25.`` UIDs derived from the original and a key, so one :class:`Deidentifier` (one key) maps a
Study, Series, SOP Instance or Frame of Reference UID to the same new UID in every file of a
dataset, and nothing of the original (its dates included) survives. As E.1.1 asks, Patient Identity
Removed is set to ``YES`` with the profile's code (113100, DCM) and Longitudinal Temporal
Information Modified to ``REMOVED``. Burned-in text in the pixels is not addressed (the Clean
Pixel Data Option).

>>> from pydicom.data import get_testdata_file
>>> import pydicom
>>> ds = Deidentifier(b"key")(pydicom.dcmread(get_testdata_file("CT_small.dcm")))
>>> bool(ds.PatientName), ds.PatientIdentityRemoved, ds.StudyInstanceUID.startswith("2.25.")
(False, 'YES', True)
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from pathlib import Path

PROFILE_FILE = Path(__file__).with_name("confidentiality_profile.tsv")
METHOD = "PS3.15 E.1 Basic Application Level Confidentiality Profile"  # LO: 64 chars at most
# dummy values (action D) by value representation; other text VRs get "ANONYMOUS"
DUMMIES = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000D", "IS": "0", "DS": "0",
           "UR": "http://localhost", **dict.fromkeys(("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"), 0),
           **dict.fromkeys(("OB", "OW", "OF", "OD", "OL", "OV", "UN"), b"\x00\x00")}


@functools.cache
def basic_profile() -> tuple[dict[int, str], list[tuple[int, int, str]]]:
    """The table as ``({tag: action}, [(mask, value, action)])``, the second for repeating groups
    such as (60XX,3000): a tag matches when ``tag & mask == value``."""
    exact, repeating = {}, []
    for line in PROFILE_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        tag, action, _ = line.split("\t")
        digits = tag.replace(",", "")
        if "X" in digits:
            mask = int("".join("0" if c == "X" else "F" for c in digits), 16)
            repeating.append((mask, int(digits.replace("X", "0"), 16), action))
        else:
            exact[int(digits, 16)] = action
    return exact, repeating


def profile_action(tag: int) -> str | None:
    """The single action the profile takes on ``tag`` (X, Z, D, U or K for a kept, cleaned sequence);
    ``None`` for attributes the profile keeps.

    >>> profile_action(0x00100010), profile_action(0x00080013), profile_action(0x60023000), profile_action(0x00280010)
    ('Z', 'D', 'X', None)
    """
    exact, repeating = basic_profile()
    action = exact.get(tag) or next((a for mask, value, a in repeating if tag & mask == value), None)
    if action is None or "/" not in action:
        return action
    options = action.split("/")
    if "U*" in options:
        return "K"  # a sequence of UID references: kept, the UIDs in its items replaced
    return "D" if "D" in options else "Z"  # the conformant choice: it satisfies Type 1 and Type 2


class Deidentifier:
    """Applies the Basic Profile to pydicom datasets; one instance per dataset being built, so a UID
    is replaced the same way in all its files. ``key`` keeps the new UIDs from being recomputed
    from guessed originals: derive it from something only the data's owner has."""

    def __init__(self, key: bytes):
        self.key = hashlib.blake2b(key, digest_size=32).digest()  # any length in, a BLAKE2 key out

    def new_uid(self, uid: str) -> str:
        """The replacement of ``uid``: a ``2.25.`` UID (a UUID as a decimal) made from a keyed hash of it."""
        digest = hashlib.blake2b(str(uid).encode(), key=self.key, digest_size=16).digest()
        return f"2.25.{uuid.UUID(bytes=digest, version=4).int}"

    def __call__(self, ds):
        """De-identify ``ds`` in place (file meta included) and return it."""
        from pydicom.dataset import Dataset

        ds.remove_private_tags()
        self._clean(ds)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
        code.CodeMeaning = "Basic Application Confidentiality Profile"
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = METHOD
        ds.DeidentificationMethodCodeSequence = [code]
        ds.LongitudinalTemporalInformationModified = "REMOVED"
        return ds

    def _clean(self, ds) -> None:
        for element in list(ds):
            action = profile_action(int(element.tag))
            if action == "X":
                del ds[element.tag]
            elif element.VR == "SQ":
                if action == "Z":
                    element.value = []
                else:  # kept (K, D, U or unlisted): its items are cleaned by the same table
                    for item in element.value:
                        self._clean(item)
            elif action == "Z":
                element.value = None
            elif action == "D":
                element.value = self.new_uid(element.value) if element.VR == "UI" else DUMMIES.get(element.VR, "ANONYMOUS")
            elif action == "U" and element.value:
                values = element.value if element.VM > 1 else [element.value]
                new = [self.new_uid(v) for v in values]
                element.value = new if element.VM > 1 else new[0]
