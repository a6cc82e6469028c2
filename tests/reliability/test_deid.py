"""DICOM de-identification with ``--keep_dicom true``: DICOM PS3.15's Basic Application Level
Confidentiality Profile on every attribute, UIDs replaced consistently within the dataset, and
records named by a hash, never by the scan's file name."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from vlmr.cli import main
from vlmr.media.deid import Deidentifier, profile_action
from vlmr.media.volume import load_volume
from vlmr.schema import load_samples

CT = get_testdata_file("CT_small.dcm")
NAME = "DOE_JANE_MRN998877"

# Rows of PS3.15 Table E.1-1 as the standard prints them (Attribute Name, Tag, Basic Profile), from
# https://dicom.nema.org/medical/dicom/current/output/chtml/part15/chapter_e.html#table_E.1-1:
#   Patient's Birth Name            (0010,1005)  X
#   Patient Comments                (0010,4000)  X
#   Issuer of Patient ID            (0010,0021)  X
#   Instance Creation Time          (0008,0013)  X/Z/D
#   Patient's Name                  (0010,0010)  Z
#   Frame of Reference UID          (0020,0052)  U
#   Referenced Image Sequence       (0008,1140)  X/Z/U*
#   Overlay Data                    (60xx,3000)  X
STANDARD_ROWS = [(0x00101005, "X"), (0x00104000, "X"), (0x00100021, "X"), (0x00080013, "D"), (0x00100010, "Z"),
                 (0x00200052, "U"), (0x00081140, "K"), (0x60023000, "X")]  # X/Z/D -> D, X/Z/U* -> K: see deid.py


@pytest.mark.parametrize(("tag", "action"), STANDARD_ROWS)
def test_the_profile_table_has_the_standard_s_actions(tag, action):
    assert profile_action(tag) == action


def patient_slice(k: int, first_sop: str | None) -> Dataset:
    """Slice ``k`` of a two-slice series carrying the identifying data the old stripper let through."""
    ds = pydicom.dcmread(CT)
    ds.PatientName, ds.PatientID = "DOE^JANE", "MRN998877"
    ds.PatientBirthName, ds.PatientComments, ds.IssuerOfPatientID = "SMITH^JANE", "VIP, room 12", "ST-MARY-HOSP"
    ds.InstanceCreationTime, ds.StudyDate = "235959", "20240229"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.20240229.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.20240229.2"
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.20240229.3"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.20240229.10{k}"
    ds.ImagePositionPatient = [-158.1, -179.0, -75.7 + 5 * k]
    ds.add_new(0x00091001, "LO", "private: MRN998877")
    request = Dataset()
    request.RequestingPhysician, request.AccessionNumber = "HOUSE^GREGORY", "ACC-42"
    ds.RequestAttributesSequence = [request]  # X: the whole sequence goes
    equipment = Dataset()
    equipment.Manufacturer, equipment.InstitutionName, equipment.AccessionNumber = "ACME", "ST-MARY-HOSP", "ACC-43"
    ds.ContributingEquipmentSequence = [equipment]  # not in the table: kept, its items cleaned
    if first_sop:
        reference = Dataset()
        reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = ds.SOPClassUID, first_sop
        ds.ReferencedImageSequence = [reference]
    return ds


@pytest.fixture
def built(tmp_path):
    """``vlmr data build medical_scans --keep_dicom true`` on the series folder DOE_JANE_MRN998877/."""
    series, masks = tmp_path / "scans" / NAME, tmp_path / "masks"
    series.mkdir(parents=True), masks.mkdir()
    originals = []
    for k in range(2):
        ds = patient_slice(k, originals[0].SOPInstanceUID if originals else None)
        ds.save_as(series / f"{NAME}_{k}.dcm", enforce_file_format=True)
        originals.append(ds)
    volume = load_volume(series)
    nib.save(nib.Nifti1Image((volume.data > 300).astype(np.uint8), volume.affine), masks / f"{NAME}.nii.gz")
    out = tmp_path / "ds"
    assert main(["data", "build", "medical_scans", "--out", str(out), "--scans", str(tmp_path / "scans"),
                 "--masks", str(masks), "--keep_dicom", "true"]) == 0
    return out, originals, volume


def test_no_identifying_value_is_written(built):
    out, originals, _ = built
    written = b"".join(path.read_bytes() for path in out.rglob("*") if path.is_file())
    names = " ".join(str(path.relative_to(out)) for path in out.rglob("*"))
    for value in (NAME, "MRN998877", "DOE", "SMITH", "VIP, room 12", "ST-MARY-HOSP", "235959", "20240229",
                  "HOUSE", "ACC-4", "1.2.826.0.1.3680043"):
        assert value.encode() not in written, value
        assert value not in names, value


def test_records_and_media_are_named_by_a_hash(built):
    out, _, _ = built
    [sample] = load_samples(out)
    assert sample.id.startswith("scan-train-") and len(sample.id) == len("scan-train-") + 16
    assert sample.volume["path"] == f"media/{sample.id}_dicom" and sample.images == [f"media/{sample.id}.png"]


def test_every_file_follows_the_profile_and_uids_agree_across_files(built):
    out, originals, volume = built
    [sample] = load_samples(out)
    files = sorted((out / sample.volume["path"]).iterdir())
    written = [pydicom.dcmread(path) for path in files]
    assert len(written) == 2
    for ds in written:
        for keyword in ("PatientBirthName", "PatientComments", "IssuerOfPatientID", "RequestAttributesSequence"):
            assert keyword not in ds
        assert not ds.PatientName and not ds.StudyDate and ds.InstanceCreationTime == "000000"
        [equipment] = ds.ContributingEquipmentSequence
        assert (equipment.Manufacturer, equipment.InstitutionName, equipment.AccessionNumber) == ("ACME", "ANONYMOUS", "")
        assert not any(element.tag.is_private for element in ds)
        assert ds.PatientIdentityRemoved == "YES" and ds.LongitudinalTemporalInformationModified == "REMOVED"
        assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    first, second = sorted(written, key=lambda ds: float(ds.ImagePositionPatient[2]))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert first[keyword].value == second[keyword].value != originals[0][keyword].value  # one study, new UID
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert second.ReferencedImageSequence[0].ReferencedSOPInstanceUID == first.SOPInstanceUID  # the reference holds
    np.testing.assert_array_equal(load_volume(out / sample.volume["path"]).data, volume.data)


def test_the_same_uid_maps_to_the_same_new_uid_for_one_key_only():
    a, b = Deidentifier(b"one"), Deidentifier(b"two")
    assert a.new_uid("1.2.3") == a.new_uid("1.2.3") != b.new_uid("1.2.3")
    assert a.new_uid("1.2.3").startswith("2.25.") and a.new_uid("1.2.3") != a.new_uid("1.2.4")
