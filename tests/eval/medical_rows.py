"""Released VQA-RAD and SLAKE rows, verbatim, and writers of their release layouts.

VQA-RAD: rows of ``data_RAD/VQA_RAD Dataset Public.json`` in Harsh-Toshniwal/MUMC (commit 4051b90),
the public release file (2,248 rows, 451 with a ``test_*`` phrase type, 314 images). Among them
qid "0" (a string, unlike the others), qid 2156 (``"CLOSED "`` with the stray space) and qid
1511 (an integer answer).
SLAKE: rows of ``Slake1.0/test.json`` in xiaoman-zhang/PMC-VQA (commit 97358cd): 2,094 rows,
1,061 English; qid 12995 is a Chinese question.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval_fixtures import write_image

VQA_RAD = [
    {"qid": "0", "phrase_type": "freeform", "qid_linked_id": "03f451ca-de62-4617-9679-e836026a7642", "image_case_url": "https://medpix.nlm.nih.gov/case?id=48e1dd0e-8552-46ad-a354-5eb55be86de6", "image_name": "synpic54610.jpg", "image_organ": "HEAD", "evaluation": "not evaluated", "question": "Are regions of the brain infarcted?", "question_rephrase": "NULL", "question_relation": "NULL", "question_frame": "NULL", "question_type": "PRES", "answer": "Yes", "answer_type": "CLOSED"},
    {"qid": 2156, "phrase_type": "freeform", "qid_linked_id": "e66cf1ca-779c-45d5-a825-f834e14abb4b", "image_case_url": "https://medpix.nlm.nih.gov/case?id=ceadd75a-8aaa-4911-8442-675af8854896", "image_name": "synpic35191.jpg", "image_organ": "HEAD", "evaluation": "not evaluated", "question": "Is this an infectious process?", "question_rephrase": "Does this represent infectious process?", "question_relation": "NULL", "question_frame": "NULL", "question_type": "OTHER", "answer": "Maybe", "answer_type": "CLOSED "},
    {"qid": 243, "phrase_type": "test_freeform", "qid_linked_id": "7324b775-35a4-41bf-92cf-774ce9d02fba", "image_case_url": "https://medpix.nlm.nih.gov/case?id=1e355a41-8bac-4045-94ba-919276a4770f", "image_name": "synpic40464.jpg", "image_organ": "ABD", "evaluation": "evaluated", "question": "Are there multiple or just 1 metastatic focus?", "question_rephrase": "How many lesions are in the spleen?", "question_relation": "conversion", "question_frame": "NULL", "question_type": "COUNT", "answer": "one", "answer_type": "CLOSED"},
    {"qid": 454, "phrase_type": "test_para", "qid_linked_id": "f6931f94-f566-48c1-9101-2db031ff6a17", "image_case_url": "https://medpix.nlm.nih.gov/case?id=070bbe56-64cc-4b35-98f4-23a5487d2117", "image_name": "synpic35914.jpg", "image_organ": "ABD", "evaluation": "evaluated", "question": "Is the colon more prominent on the patient's right or left side?", "question_rephrase": "Where is the colon most prominent from this view?", "question_relation": "conversion", "question_frame": "NULL", "question_type": "POS", "answer": "Left", "answer_type": "CLOSED"},
    {"qid": 10, "phrase_type": "test_freeform", "qid_linked_id": "3fe4dfe4-015f-4a25-aa33-66c76918105a", "image_case_url": "https://medpix.nlm.nih.gov/case?id=31ac9c0f-732a-4c51-9f33-1cdfae1b8728", "image_name": "synpic42202.jpg", "image_organ": "CHEST", "evaluation": "not evaluated", "question": "Is there evidence of an aortic aneurysm?", "question_rephrase": "NULL", "question_relation": "NULL", "question_frame": "NULL", "question_type": "PRES", "answer": "yes", "answer_type": "CLOSED"},
    {"qid": 12, "phrase_type": "test_freeform", "qid_linked_id": "4f49fe02-5652-4f52-878f-dce6bb117bb9", "image_case_url": "https://medpix.nlm.nih.gov/case?id=b197277b-6960-4175-86ee-d2cb23e381b3", "image_name": "synpic29265.jpg", "image_organ": "CHEST", "evaluation": "not evaluated", "question": "Is there airspace consolidation on the left side?", "question_rephrase": "NULL", "question_relation": "NULL", "question_frame": "NULL", "question_type": "PRES", "answer": "Yes", "answer_type": "CLOSED"},
    {"qid": 19, "phrase_type": "test_freeform", "qid_linked_id": "9086a298-c1f4-44fb-ad69-772a30c4e97e", "image_case_url": "https://medpix.nlm.nih.gov/case?id=b197277b-6960-4175-86ee-d2cb23e381b3", "image_name": "synpic29265.jpg", "image_organ": "CHEST", "evaluation": "not evaluated", "question": "How is the patient oriented?", "question_rephrase": "NULL", "question_relation": "NULL", "question_frame": "NULL", "question_type": "OTHER", "answer": "Posterior-Anterior", "answer_type": "OPEN"},
    {"qid": 190, "phrase_type": "test_para", "qid_linked_id": "0ee6e76c-ef11-44b2-94cc-8ffd67bc5322", "image_case_url": "https://medpix.nlm.nih.gov/case?id=1e355a41-8bac-4045-94ba-919276a4770f", "image_name": "synpic40464.jpg", "image_organ": "ABD", "evaluation": "evaluated", "question": "How would you describe the spleen abnormality", "question_rephrase": "What is abnormal about the spleen?", "question_relation": "strict agreement", "question_frame": "How would you describe the abnormality?", "question_type": "ATTRIB", "answer": "hypodense lesion", "answer_type": "OPEN"},
    {"qid": 1511, "phrase_type": "freeform", "qid_linked_id": "2a85da37-7bc0-4f61-b28b-7e93d7a0ba8e", "image_case_url": "https://medpix.nlm.nih.gov/case?id=f73a6d24-4249-4594-ae59-49771cd6a272", "image_name": "synpic45162.jpg", "image_organ": "ABD", "evaluation": "not evaluated", "question": "How many gallstones are identified?", "question_rephrase": "How many gallstones do you see in this view?", "question_relation": "NULL", "question_frame": "How many gallstones are present/visualized in the image?", "question_type": "COUNT", "answer": 4, "answer_type": "OPEN"},
]  # fmt: skip

SLAKE = [
    {"img_id": 102, "img_name": "xmlab102/source.jpg", "question": "What modality is used to take this image?", "answer": "CT", "q_lang": "en", "location": "Lung", "modality": "CT", "answer_type": "OPEN", "base_type": "vqa", "triple": ["vhead", "_", "_"], "qid": 11934, "content_type": "Modality"},
    {"img_id": 102, "img_name": "xmlab102/source.jpg", "question": "Does the picture contain liver?", "answer": "No", "q_lang": "en", "location": "Lung", "modality": "CT", "answer_type": "CLOSED", "base_type": "vqa", "triple": ["vhead", "_", "_"], "qid": 11938, "content_type": "Organ"},
    {"img_id": 102, "img_name": "xmlab102/source.jpg", "question": "Which is the biggest in this image,lung,liver or heart?", "answer": "Lung", "q_lang": "en", "location": "Lung", "modality": "CT", "answer_type": "CLOSED", "base_type": "vqa", "content_type": "Size", "triple": ["vhead", "_", "_"], "qid": 11944},
    {"img_id": 102, "img_name": "xmlab102/source.jpg", "question": "What is the largest organ in the picture?", "answer": "Lung", "q_lang": "en", "location": "Lung", "modality": "CT", "answer_type": "OPEN", "base_type": "vqa", "triple": ["vhead", "_", "_"], "qid": 11937, "content_type": "Size"},
    {"img_id": 103, "img_name": "xmlab103/source.jpg", "question": "What diseases are included in the picture?", "answer": "Lung Cancer", "q_lang": "en", "location": "Abdomen", "modality": "CT", "answer_type": "OPEN", "base_type": "vqa", "triple": ["vhead", "_", "_"], "qid": 11951, "content_type": "Abnormality"},
    {"img_id": 1, "img_name": "xmlab1/source.jpg", "question": "这张图片的成像方式是什么?", "answer": "MRI", "q_lang": "zh", "location": "Abdomen", "modality": "MRI", "answer_type": "OPEN", "base_type": "vqa", "triple": ["vhead", "_", "_"], "qid": 12995, "content_type": "Modality"},
]  # fmt: skip


def write_vqa_rad(root: Path) -> Path:
    """``VQA_RAD Dataset Public.json`` + ``VQA_RAD Image Folder/`` (one image per name, sizes differ)."""
    for i, name in enumerate(sorted({r["image_name"] for r in VQA_RAD})):
        write_image(root / "VQA_RAD Image Folder" / name, width=60 + i, height=50)
    (root / "VQA_RAD Dataset Public.json").write_text(json.dumps(VQA_RAD))
    return root


def write_slake(root: Path) -> Path:
    """``test.json`` + ``imgs/xmlabN/source.jpg``."""
    for i, name in enumerate(sorted({r["img_name"] for r in SLAKE})):
        write_image(root / "imgs" / name, width=70 + i, height=70)
    (root / "test.json").write_text(json.dumps(SLAKE, ensure_ascii=False))
    return root
