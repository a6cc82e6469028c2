"""Medical builders: phantom ground truth against pixels, real DICOM with mask, PHI, VQA-RAD/SLAKE."""

import nibabel as nib
import numpy as np
import pydicom
import pytest
from medical_rows import VQA_RAD, write_slake, write_vqa_rad
from PIL import Image
from pydicom.data import get_testdata_file

from vlmr.data_pipelines.build import build_dataset
from vlmr.data_pipelines.medical import LESION, LUNG, make_phantom
from vlmr.media.volume import WINDOWS, load_volume, window
from vlmr.schema import load_samples

CT = get_testdata_file("CT_small.dcm")


class TestPhantom:
    def test_lesions_have_known_hu(self):
        volume, labels = make_phantom(np.random.default_rng(5), max_lesions=3)
        for k in range(1, labels.max() + 1):
            assert abs(volume.data[labels == k].mean() - LESION) < 5

    def test_boxes_enclose_lesion_pixels_of_the_slice(self, tmp_path):
        out = build_dataset("medical_phantom", tmp_path / "ds", limit=6, progress=False)
        lesion_grey = window(np.array([LESION]), *WINDOWS["lung"])[0]
        lung_grey = window(np.array([LUNG]), *WINDOWS["lung"])[0]
        grounded = [s for s in load_samples(out) if s.task == "grounding"]
        assert grounded
        for s in grounded:
            pixels = np.asarray(Image.open(out / s.images[0]), int)
            for x1, y1, x2, y2 in s.answer["boxes"]:
                inside = pixels[y1:y2, x1:x2]
                assert (np.abs(inside - lesion_grey) < 15).mean() > 0.5  # lesion-bright in the box
                assert abs(int(pixels[y1 - 1, (x1 + x2) // 2]) - lung_grey) < 15  # lung just outside
            volume = load_volume(out / s.volume["path"])
            assert volume.data.shape == (96, 96, 24)


class TestScans:
    def test_dicom_with_mask_and_no_phi_written(self, tmp_path):
        scans, masks = tmp_path / "scans", tmp_path / "masks"
        scans.mkdir(), masks.mkdir()
        ds = pydicom.dcmread(CT)
        ds.save_as(scans / "case1.dcm")
        bone = (load_volume(CT).data > 300).astype(np.uint8)  # a "mask" of bone, in RAS like the scan
        nib.save(nib.Nifti1Image(bone, load_volume(CT).affine), masks / "case1.nii.gz")
        empty = pydicom.dcmread(CT)
        del empty.PixelData
        empty.save_as(scans / "case2.dcm")
        nib.save(nib.Nifti1Image(bone, np.eye(4)), masks / "case2.nii.gz")
        out = build_dataset("medical_scans", tmp_path / "ds", scans=str(scans), masks=str(masks), progress=False)
        samples = load_samples(out)
        assert len(samples) == 1 and "corrupted scan or mask" in (out / "README.md").read_text()
        for keep_dicom in (False, True):
            out = build_dataset("medical_scans", tmp_path / f"ds{keep_dicom}", scans=str(scans), masks=str(masks),
                                keep_dicom=keep_dicom, window="300,1500", progress=False)
            written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
            assert str(ds.PatientName).encode() not in written and str(ds.PatientID).encode() not in written
            sample = load_samples(out)[0]
            np.testing.assert_array_equal(load_volume(out / sample.volume["path"]).data, load_volume(CT).data)
            assert sample.volume["path"].endswith("_dicom" if keep_dicom else ".nii.gz")


class TestVqaRad:
    """Built from released rows (``tests/eval/medical_rows.py``: VQA-RAD's and SLAKE's files, verbatim)."""

    def test_split_comes_from_phrase_type(self, tmp_path):
        root = write_vqa_rad(tmp_path / "rad")
        ann = str(root / "VQA_RAD Dataset Public.json")
        everything = load_samples(build_dataset("vqa_rad", tmp_path / "all", annotations=ann, progress=False))
        assert len(everything) == len(VQA_RAD)  # no --split: every row, each with its own split
        assert {s.id: s.meta["split"] for s in everything}["vqa_rad-train-0"] == "train"
        test = load_samples(build_dataset("vqa_rad", tmp_path / "test", annotations=ann, split="test",
                                          progress=False))
        assert [s.id for s in test] == ["vqa_rad-test-243", "vqa_rad-test-454", "vqa_rad-test-10",
                                        "vqa_rad-test-12", "vqa_rad-test-19", "vqa_rad-test-190"]
        assert {s.meta["split"] for s in test} == {"test"} and test[0].meta["answer_type"] == "closed"
        # one file per image: 6 test questions on 4 images
        assert len(list((tmp_path / "test" / "media" / "vqa_rad").iterdir())) == 4
        assert test[2].question == "Is there evidence of an aortic aneurysm? Answer yes or no."
        with pytest.raises(ValueError, match=r"no 'val' rows; its splits: \['test', 'train'\]"):
            build_dataset("vqa_rad", tmp_path / "val", annotations=ann, split="val", progress=False)

    def test_slake_says_slake(self, tmp_path):
        root = write_slake(tmp_path / "slake")
        out = build_dataset("slake", tmp_path / "ds", annotations=str(root / "test.json"), progress=False)
        samples = load_samples(out)
        assert [s.id for s in samples][:2] == ["slake-test-11934", "slake-test-11938"] and len(samples) == 5
        assert {s.source for s in samples} == {"slake"} and {s.meta["split"] for s in samples} == {"test"}
        assert samples[0].images == ["media/slake/xmlab102/source.jpg"]

    def test_missing_image_is_skipped(self, tmp_path):
        root = write_vqa_rad(tmp_path / "rad")
        (root / "VQA_RAD Image Folder" / "synpic40464.jpg").unlink()  # qids 243 and 190
        out = build_dataset("vqa_rad", tmp_path / "ds", annotations=str(root / "VQA_RAD Dataset Public.json"),
                            split="test", progress=False)
        assert len(load_samples(out)) == 4 and "skipped 2: missing image" in (out / "README.md").read_text()
