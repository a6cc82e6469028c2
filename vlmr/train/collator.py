"""SFT collator for vision-language conversations whose tool messages carry images.

trl's ``DataCollatorForVisionLanguageModeling`` fills image placeholders only in user
turns and renders one ``tools`` list for the whole batch. This collator renders each
conversation on its own (its own tools, images in any turn, assistant-only labels via
the chat template's ``{% generation %}`` markers) and pads the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vlmr.inference import fill_images


@dataclass
class ToolConversationCollator:
    """Tokenise ``{"messages", "images", "tools"?}`` examples into a padded training batch."""

    processor: Any
    tools: dict[str, list] | None = None  # example["tools"] key -> tool functions / schemas
    max_length: int | None = None
    chat_template: str | None = None  # rendered instead of the processor's (vlmr.chat_templates.training_chat_template)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        encoded = [self._encode(example) for example in examples]
        pad_id = self.processor.tokenizer.pad_token_id
        length = max(e["input_ids"].shape[-1] for e in encoded)
        batch: dict[str, torch.Tensor] = {}
        for key, fill in (("input_ids", pad_id), ("attention_mask", 0), ("labels", -100), ("mm_token_type_ids", 0),
                          ("token_type_ids", 0)):  # Gemma 3's image tokens attend both ways by it
            if key in encoded[0]:
                batch[key] = torch.stack(
                    [torch.nn.functional.pad(e[key][0], (0, length - e[key].shape[-1]), value=fill) for e in encoded]
                )
        # per-image tensors, concatenated over the batch (image_sizes, batch_num_images: LLaVA-OneVision;
        # pixel_attention_mask: SmolVLM)
        for key in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "image_sizes",
                    "batch_num_images", "pixel_attention_mask"):
            parts = [e[key] for e in encoded if key in e]
            if parts:
                batch[key] = torch.cat(_pad_tiles(parts))
        return batch

    def _encode(self, example: dict[str, Any]) -> dict[str, torch.Tensor]:
        messages = fill_images(example["messages"], example.get("images"))
        tools = (self.tools or {}).get(example.get("tools")) if example.get("tools") else None
        out = self.processor.apply_chat_template(
            messages, tools=tools, tokenize=True, return_dict=True, return_tensors="pt",
            return_assistant_tokens_mask=True, chat_template=self.chat_template,
        )
        if self.max_length and out["input_ids"].shape[-1] > self.max_length:
            raise ValueError(
                f"a conversation is {out['input_ids'].shape[-1]} tokens, over max_length={self.max_length}; "
                "truncating would cut image tokens (raise max_length or lower max_pixels)"
            )
        labels = out["input_ids"].clone()
        labels[out.pop("assistant_masks") == 0] = -100
        out["labels"] = labels
        return dict(out)


def _pad_tiles(parts: list[torch.Tensor]) -> list[torch.Tensor]:
    """Zero-pad the tile dimension (dim 1) of per-example image tensors to the longest, so they concatenate.

    LLaVA-OneVision's ``pixel_values`` are ``(images, tiles, C, H, W)`` and SmolVLM's ``(1, tiles, C, H, W)`` (with a
    ``pixel_attention_mask`` of ``(1, tiles, H, W)``), the tile count following each image's size. Both models drop
    the padding themselves: LLaVA-OneVision counts an image's tiles from its ``image_sizes``, SmolVLM skips all-zero
    tiles, as their processors pad a batch.
    """
    if len({p.shape[1:] for p in parts}) == 1 or parts[0].dim() < 4:
        return parts
    tiles = max(p.shape[1] for p in parts)
    return [torch.nn.functional.pad(p, (0, 0) * (p.dim() - 2) + (0, tiles - p.shape[1])) for p in parts]
