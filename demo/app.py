"""The Gradio page: upload, ask, watch the model think and call tools, see the answer drawn.

:func:`build_app` lays out the page around one backend (a local model or an
OpenAI-compatible server, :func:`vlmr.inference.load_backend`); :func:`launch` serves it
on loopback with a queue (``concurrency`` questions answered at once, the rest wait),
``share=False`` unless asked, and no file paths besides the uploads and the files the page
itself creates (all inside the work dir, which ``vlmr demo`` makes a fresh temp dir).
Gradio is imported inside these functions, so importing this module costs nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vlmr.demo.session import Settings, ask, default_tools, kind_of, page_tools, preview, task_choices

logger = logging.getLogger(__name__)

CSS = """
#status {min-height: 2.2em}
#status p {margin: 0}
"""
INTRO = (
    "# vlmr demo: visual reasoning with tools\n"
    "Upload an **image**, a **video** or a **scan** (DICOM / NIfTI), ask a question and watch the model think, "
    "call tools (zoom, crop, draw, pick frames, slices) and answer. The answer is drawn on the input."
)


def build_app(backend, settings: Settings, work_dir: str | Path, model_name: str = "", segmenter=None):
    """The page (a ``gradio.Blocks``) answering with ``backend``; example files are written to ``work_dir``."""
    import gradio as gr

    from vlmr.demo.examples import write_examples
    from vlmr.demo.stream import warm_up

    examples = write_examples(Path(work_dir) / "examples")
    warm_up(backend.family, page_tools())

    def on_upload(path, task):
        image, status = preview(path, settings)
        return image, status, gr.update(value=default_tools(task, kind_of(path)))

    def on_task(task, path):
        return gr.update(value=default_tools(task, kind_of(path)))

    def on_ask(path, question, task, tools, max_new_tokens, temperature, max_turns):
        for view in ask(backend, path, question, task, tools, settings, segmenter, max_new_tokens, temperature,
                        max_turns):
            yield view.status, view.transcript, view.gallery, view.answer, view.overlay

    with gr.Blocks(title="vlmr demo", analytics_enabled=False) as app:
        gr.Markdown(INTRO + (f"\n\nModel: `{model_name}`" if model_name else ""))
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(label="Image, video or scan", file_count="single", type="filepath",
                                 elem_id="upload")
                shown = gr.Image(label="What the model sees", type="pil", interactive=False, height=260,
                                 elem_id="preview")
                question = gr.Textbox(label="Question", placeholder="Where is the red circle?", lines=2,
                                      elem_id="question")
                task = gr.Radio(task_choices(), value="grounding", label="Task",
                                elem_id="task")
                tools = gr.CheckboxGroup(page_tools(), value=default_tools("grounding"), label="Tools the model may call",
                                         elem_id="tools")
                with gr.Accordion("Sampling", open=False):
                    max_new_tokens = gr.Slider(16, 2048, value=settings.max_new_tokens, step=16,
                                               label="Max new tokens per turn")
                    temperature = gr.Slider(0.0, 1.5, value=settings.temperature, step=0.05,
                                            label="Temperature (0 = greedy)")
                    max_turns = gr.Slider(1, 8, value=settings.max_turns, step=1,
                                          label="Max turns (tool calls = turns - 1)")
                button = gr.Button("Ask", variant="primary", elem_id="ask")
            with gr.Column(scale=2):
                status = gr.Markdown("Upload an image, a video or a scan, or click an example below.",
                                     elem_id="status")
                overlay = gr.Image(label="Answer on the input", type="pil", interactive=False, height=360,
                                   elem_id="overlay")
                answer = gr.Textbox(label="Answer", lines=3, interactive=False, elem_id="answer")
                transcript = gr.Textbox(label="Thinking and tool calls (streamed)", lines=10, max_lines=24,
                                        interactive=False, autoscroll=True, elem_id="transcript")
                gallery = gr.Gallery(label="Tool outputs", columns=4, height=240, preview=False, fit_columns=False,
                                     object_fit="contain", elem_id="gallery")
        gr.Examples(examples, inputs=[upload, question, task], label="Examples (synthetic; click one, then Ask)")
        upload.change(on_upload, [upload, task], [shown, status, tools], queue=False)
        task.change(on_task, [task, upload], [tools], queue=False)
        inputs = [upload, question, task, tools, max_new_tokens, temperature, max_turns]
        outputs = [status, transcript, gallery, answer, overlay]
        button.click(on_ask, inputs, outputs)
        question.submit(on_ask, inputs, outputs)
    return app


def launch(app, host: str = "127.0.0.1", port: int | None = None, share: bool = False, concurrency: int = 1,
           max_queue: int = 32, max_file_size: str = "200mb") -> None:
    """Serve ``app`` until interrupted: ``concurrency`` questions at once, ``max_queue`` waiting at most."""
    import gradio as gr

    app.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    app.launch(server_name=host, server_port=port, share=share, allowed_paths=[], max_file_size=max_file_size,
               ssr_mode=False, show_error=True, theme=gr.themes.Soft(), css=CSS, footer_links=[])
