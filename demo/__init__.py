"""The vlmr web demo: ask a model about an image, a video or a scan and watch it reason.

``vlmr demo --model DIR_OR_ID`` serves the page (:mod:`vlmr.demo.app`). The parts below it
do not need the web framework: :mod:`~vlmr.demo.inputs` checks uploads,
:mod:`~vlmr.demo.session` runs one question (the same agent loop as ``vlmr infer`` and
eval, through :mod:`~vlmr.demo.stream` for live events), :mod:`vlmr.render` (shared
with ``vlmr infer``) draws the answer on the input and :mod:`~vlmr.demo.examples` makes the
synthetic example inputs.
"""
