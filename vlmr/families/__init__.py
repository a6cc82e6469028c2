"""Model families as registered specs (:class:`ModelFamily`): one module per family, named by
``config.model_type``, by name or by ``package.module:Name`` (see ``docs/extending.md``)."""

from vlmr.families import (  # noqa: F401  (registers the built-in families)
    gemma3,
    generic,
    glm4v,
    internvl,
    llava_onevision,
    qwen,
    smolvlm,
)
from vlmr.families.base import (
    FAMILIES,
    HERMES_TOOL_PARSER,
    ModelFamily,
    ToolTemplate,
    family_for_model_type,
    get_family,
    list_families,
    register_family,
)

__all__ = ["FAMILIES", "HERMES_TOOL_PARSER", "ModelFamily", "ToolTemplate", "family_for_model_type", "get_family",
           "list_families", "register_family"]
