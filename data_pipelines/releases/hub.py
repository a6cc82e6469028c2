"""Local snapshots of Hugging Face Hub releases, read with ``datasets``.

Most users have a benchmark as its Hub copy: the parquet files of a snapshot
(``huggingface-cli download --repo-type dataset lmms-lab/RefCOCO --local-dir RefCOCO``,
images embedded as bytes), or a folder written by ``datasets``' ``save_to_disk``.
:func:`is_hub_copy` recognises both from the path; :class:`HubCopy` lists the splits and
yields the rows of one split, streamed (no Arrow cache is written), with every image
cell as an :class:`ImageCell`. An image is stored once, under a name made from its bytes,
wherever it goes: :meth:`ImageCell.save` writes it into the shared media cache
(:func:`hub_media_dir`) for evaluation, and a dataset build passes ``{cell.name: cell.data}``
as a record's media, so a picture asked about by ten questions is one file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MEDIA_CACHE_ENV = "VLMR_MEDIA_CACHE"
_SAVED_MARKERS = ("dataset_dict.json", "state.json")  # what save_to_disk writes


def hub_media_dir() -> Path:
    """Folder holding the images of Hub copies: ``$VLMR_MEDIA_CACHE`` or ``~/.cache/vlmr/media``."""
    return Path(os.environ.get(MEDIA_CACHE_ENV) or Path.home() / ".cache" / "vlmr" / "media")


def _parquet_files(folder: Path) -> list[Path]:
    """Parquet files at the depths Hub layouts use (``x.parquet``, ``data/x``, ``config/split/x``)."""
    return sorted(p for pattern in ("*.parquet", "*/*.parquet", "*/*/*.parquet") for p in folder.glob(pattern))


def is_hub_copy(path: str | Path) -> bool:
    """Whether ``path`` is a Hub snapshot: a ``.parquet`` file, a folder with parquet files under
    it, or a ``save_to_disk`` folder.

    >>> is_hub_copy("testmini.json")
    False
    """
    path = Path(path)
    if path.is_file():
        return path.suffix == ".parquet"
    if not path.is_dir():
        return False
    return any((path / marker).is_file() for marker in _SAVED_MARKERS) or bool(_parquet_files(path))


@dataclass(frozen=True)
class ImageCell:
    """One image of a Hub row: its bytes and a stable file name made from them."""

    data: bytes

    @property
    def name(self) -> str:
        """``<sha256 prefix><ext>``: equal bytes, equal name (the extension from the image header)."""
        return hashlib.sha256(self.data).hexdigest()[:32] + _extension(self.data)

    def save(self, folder: str | Path | None = None) -> str:
        """Write the image into ``folder`` (default :func:`hub_media_dir`) unless it is there; returns its name."""
        folder = Path(folder or hub_media_dir())
        target = folder / self.name
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            tmp.write_bytes(self.data)
            os.replace(tmp, target)  # atomic: a concurrent reader never sees half an image
        return self.name


def _extension(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return "." + (im.format or "bin").lower()
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return ".bin"


class HubCopy:
    """A local Hub snapshot (parquet files or a ``save_to_disk`` folder) read split by split.

    Args:
        path: the snapshot folder or one ``.parquet`` file.
        config: the configuration to read when the snapshot's card declares several.

    >>> import datasets, tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> ds = datasets.Dataset.from_dict({"question": ["How many?"], "number": [3]})
    >>> _ = ds.to_parquet(os.path.join(root, "data", "test-00000-of-00001.parquet"))
    >>> copy = HubCopy(root)
    >>> copy.splits, list(copy.rows("test"))
    (['test'], [{'question': 'How many?', 'number': 3}])
    """

    def __init__(self, path: str | Path, config: str | None = None):
        self.path = Path(path)
        self.config = config
        self._splits: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        """``{split: datasets.IterableDataset}`` with images left undecoded."""
        if self._splits is None:
            import datasets

            if any((self.path / marker).is_file() for marker in _SAVED_MARKERS):
                saved = datasets.load_from_disk(str(self.path))
                parts = dict(saved) if isinstance(saved, datasets.DatasetDict) else {saved.split or "train": saved}
                self._splits = {str(name): ds.to_iterable_dataset() for name, ds in parts.items()}
            elif self.path.is_file():
                self._splits = dict(datasets.load_dataset(
                    "parquet", data_files={_split_of_file(self.path): str(self.path)}, streaming=True))
            else:
                self._splits = dict(datasets.load_dataset(str(self.path), self.config, streaming=True))
        return self._splits

    @property
    def splits(self) -> list[str]:
        """Split names of the snapshot, sorted."""
        return sorted(self._load())

    def choose_split(self, requested: str | None = None, prefer: Sequence[str] = ()) -> str:
        """``requested`` (an error listing the splits if absent), else the first of ``prefer`` present,
        else the only split."""
        splits = self.splits
        if requested:
            if requested not in splits:
                raise ValueError(f"{self.path} has no split {requested!r}; its splits: {splits}")
            return requested
        for name in prefer:
            if name in splits:
                return name
        if len(splits) == 1:
            return splits[0]
        raise ValueError(f"{self.path} has the splits {splits}; choose one with the split option (--option split=NAME)")

    def rows(self, split: str) -> Iterator[dict[str, Any]]:
        """Rows of ``split`` in file order; image columns hold :class:`ImageCell` (``None`` when empty)."""
        dataset = self._load()[split]
        images = _image_columns(dataset.features or {})
        for row in dataset.decode(False):
            for column, many in images.items():
                value = row.get(column)
                row[column] = [self._cell(v) for v in value or []] if many else self._cell(value)
            yield row

    def _cell(self, value: Any) -> ImageCell | None:
        """An undecoded ``{"bytes", "path"}`` image; a bare path counts only inside the snapshot."""
        if not isinstance(value, dict):
            return None
        if value.get("bytes"):
            return ImageCell(value["bytes"])
        if value.get("path"):
            root = (self.path if self.path.is_dir() else self.path.parent).resolve()
            file = (root / value["path"]).resolve()
            if file.is_relative_to(root) and file.is_file():
                return ImageCell(file.read_bytes())
        return None


def _image_columns(features: Any) -> dict[str, bool]:
    """``{column: holds a list of images}`` for the top-level image columns of ``features``."""
    import datasets

    out = {}
    for name, feature in features.items():
        if isinstance(feature, datasets.Image):
            out[name] = False
        elif isinstance(getattr(feature, "feature", None), datasets.Image):  # List(Image()) / Sequence(Image())
            out[name] = True
    return out


def _split_of_file(path: Path) -> str:
    """The split a Hub parquet file name declares (``test-00000-of-00001-x.parquet`` -> ``test``).

    >>> _split_of_file(Path("data/testmini-00000-of-00001-725687bf7a18d64b.parquet")), _split_of_file(Path("val.parquet"))
    ('testmini', 'val')
    """
    return path.stem.split("-", 1)[0]
