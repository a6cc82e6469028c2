"""Volumes: HU from DICOM, NIfTI orientation, windows, slices, PHI stripping."""

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from nibabel.testing import data_path
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut

from vlmr.media.deid import Deidentifier
from vlmr.media.volume import WINDOWS, foreground_slices, load_volume, mask_boxes, window

CT = get_testdata_file("CT_small.dcm")


class TestDicom:
    def test_hu_matches_pydicom_modality_lut(self):
        ds = pydicom.dcmread(CT)
        volume = load_volume(CT)
        # the axial display slice of a standard-orientation CT is the stored image
        np.testing.assert_array_equal(volume.slice_array("axial", 0), apply_modality_lut(ds.pixel_array, ds))
        assert volume.modality == "CT" and volume.spacing == pytest.approx((0.661468, 0.661468, 5.0))

    def test_series_directory_stacks_slices_in_order(self, tmp_path):
        for k in range(3):
            ds = pydicom.dcmread(CT)
            ds.ImagePositionPatient = [-158.1, -179.0, -75.7 + 5 * (2 - k)]  # written in reverse order
            ds.RescaleIntercept = -1024 + 100 * (2 - k)
            ds.save_as(tmp_path / f"s{k}.dcm")
        volume = load_volume(tmp_path)
        assert volume.data.shape == (128, 128, 3)
        means = [volume.slice_array("axial", z).mean() for z in range(3)]
        assert means[0] < means[1] < means[2]  # inferior -> superior: intercept -1024, -924, -824
        assert volume.spacing[2] == pytest.approx(5.0)

    def test_dicom_without_pixel_data_raises(self, tmp_path):
        ds = pydicom.dcmread(CT)
        del ds.PixelData
        ds.save_as(tmp_path / "empty.dcm")
        with pytest.raises(ValueError, match="empty.dcm.*no pixel data"):
            load_volume(tmp_path / "empty.dcm")

    def test_deidentify_empties_patient_tags(self):  # the whole profile: tests/reliability/test_deid.py
        ds = Deidentifier(b"key")(pydicom.dcmread(CT))
        assert not (ds.PatientName or ds.PatientBirthDate) and ds.PatientID == "ANONYMOUS"


class TestNifti:
    @pytest.mark.parametrize("name, shape", [("anatomical.nii", (33, 41, 25)), ("example4d.nii.gz", (128, 96, 24))])
    def test_loads_bundled_files_in_ras(self, name, shape):
        volume = load_volume(os.path.join(data_path, name))
        assert volume.data.shape == shape
        assert (np.diag(volume.affine)[:3] > 0).all()  # canonical RAS: positive diagonal

    def test_truncated_nifti_raises(self, tmp_path):
        bad = tmp_path / "bad.nii.gz"
        bad.write_bytes(Path(data_path, "example4d.nii.gz").read_bytes()[:2000])
        with pytest.raises(ValueError, match="bad.nii.gz"):
            load_volume(bad)


class TestWindowAndSlices:
    @pytest.mark.parametrize("name, hu, expected", [
        ("lung", -600, 128),  # centre of the window -> mid grey
        ("lung", -1400, 0),  # below -> black
        ("bone", 1300, 255),  # top edge -> white
        ("brain", 0, 0),  # level 40, width 80 -> 0 HU is the lower edge
    ])
    def test_presets(self, name, hu, expected):
        assert window(np.array([hu]), *WINDOWS[name])[0] == expected

    def test_slice_orientation_of_ras_array(self):
        data = np.zeros((4, 5, 6), np.float32)
        data[3, 4, 2] = 1  # patient right-most, anterior-most voxel
        from vlmr.media.volume import Volume

        image = Volume(data, np.eye(4)).slice_array("axial", 2)
        assert image.shape == (5, 4) and image[0, 0] == 1  # top-left: anterior, patient right

    def test_square_pixels_stretch_thick_slices(self):
        from vlmr.media.volume import Volume

        volume = Volume(np.zeros((10, 8, 4), np.float32), np.diag([0.5, 0.5, 2.5, 1.0]))
        assert volume.slice("coronal", 0).size == (10, 4)
        assert volume.slice("coronal", 0, square_pixels=True).size == (10, 20)  # 4 slices x 2.5 mm / 0.5 mm

    def test_bad_axis_message(self):
        with pytest.raises(ValueError, match="choose one of"):
            load_volume(CT).slice("oblique", 0)

    def test_foreground_slices_and_boxes(self):
        mask = np.zeros((8, 8, 4), bool)
        mask[1:3, 2:5, 1] = True
        mask[5:7, 5:7, 3] = True
        mask[5:7, 0:1, 3] = True
        assert foreground_slices(mask, "axial", k=3) == [1, 3]
        assert len(mask_boxes(mask[:, :, 3])) == 2
