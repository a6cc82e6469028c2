"""``vlmr infer``: ask one question about an image or a video, with tools, and show the whole trajectory.

    vlmr infer --model ./ckpt --image cat.jpg --question "Where is the cat?" --task grounding --tools zoom_in,draw_box
    vlmr infer --model Qwen/Qwen2.5-VL-7B-Instruct --api-base http://localhost:8000/v1 --video clip.mp4 \\
        --question "When does the door open?" --task temporal_grounding --tools video

Tool images are saved to ``--save-dir`` (with ``trajectory.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from vlmr.commands import TOOLS_HELP, add_model_options, generation_options


def register(subparsers) -> None:
    """Declare ``vlmr infer`` and its options."""
    parser = subparsers.add_parser(
        "infer",
        help="answer one question about an image or video, with visual tools",
        description="Run the vlmr agent loop (the same one eval and the demo use) on one image or video "
        "and print the trajectory: thoughts, tool calls, tool results, answer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_model_options(parser)
    media = parser.add_mutually_exclusive_group(required=True)
    media.add_argument("--image", help="path of the image")
    media.add_argument("--video", help="path of the video")
    parser.add_argument("--question", required=True, help="the question to ask")
    parser.add_argument("--task", default="vqa", help="task (sets the answer format), e.g. grounding, counting, mcq, "
                        "or package.module:Name of your own (vlmr.tasks)")
    parser.add_argument("--tools", default="", help=TOOLS_HELP)
    parser.add_argument("--save-dir", default="vlmr_infer", help="folder for tool images and trajectory.json")
    parser.add_argument("--max-turns", type=int, default=4, help="model turns at most (tool calls = turns - 1)")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="tokens per turn")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy decoding")
    parser.add_argument("--max-pixels", type=int, default=None, help="largest image area after resizing (local models)")
    parser.add_argument("--segmenter", default="grabcut",
                        help="box/point -> mask backend for --task segmentation (grabcut, sam, sam2)")
    parser.add_argument("--fps", type=float, default=2.0, help="video frames sampled per second")
    parser.add_argument("--max-frames", type=int, default=16, help="video frames at most")
    parser.set_defaults(handler=run)


def _request(args, backend):
    """The AgentRequest for the image or video in ``args``, and the image(s) it shows."""
    from vlmr.inference.request import media_request
    from vlmr.media.image import open_rgb
    from vlmr.tools import resolve_tools

    tools = resolve_tools(args.tools) if args.tools else None
    if args.image:
        image = open_rgb(args.image)
        request, _ = media_request(backend, args.question, args.task, tools, image=image)
        return request, [image]
    from vlmr.conversation import FramePolicy

    video = {"path": str(Path(args.video).resolve()), "sample_fps": args.fps, "max_frames": args.max_frames}
    request, _ = media_request(backend, args.question, args.task, tools, video=video,
                               frames=FramePolicy(max_pixels=args.max_pixels))
    return request, request.images


def _print(console, traj, saved: dict[int, Path]) -> None:
    from rich.markup import escape
    from rich.panel import Panel

    from vlmr.inference.loop import message_text

    styles = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}
    image_index = 0
    for message in traj.messages:
        role = message["role"]
        body = escape(message_text(message))
        for call in message.get("tool_calls") or []:
            fn = call["function"]
            body += f"\n[bold]→ {escape(fn['name'])}[/bold]({escape(json.dumps(fn['arguments']))})"
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part["type"] == "image":
                body += f"\n[bold]image[/bold] {part['image'].width}x{part['image'].height}"
                if role == "tool":
                    body += f" → {escape(str(saved[image_index]))}"
                    image_index += 1
            elif part["type"] == "video":
                body += f"\n[bold]video[/bold] {len(part['video'])} frames"
        title = role if role != "tool" else f"tool: {message.get('name', '')}"
        console.print(Panel(body.strip() or "[dim](empty)[/dim]", title=title, border_style=styles.get(role, "white")))
    console.print(
        f"turns {traj.turns} · tool calls {len(traj.tool_calls)} · prompt tokens {traj.n_prompt_tokens} · "
        f"completion tokens {traj.n_completion_tokens} · {traj.seconds:.2f}s"
    )


def _save(save_dir: Path, traj, args) -> dict[int, Path]:
    """Tool images as ``tool_NN.png`` and ``trajectory.json``, each written atomically."""
    save_dir.mkdir(parents=True, exist_ok=True)
    saved = {}
    for i, image in enumerate(traj.tool_images):
        path = save_dir / f"tool_{i:02d}.png"
        with tempfile.NamedTemporaryFile(dir=save_dir, suffix=".png", delete=False) as tmp:
            image.save(tmp, format="PNG")
        os.replace(tmp.name, path)
        saved[i] = path
    record = {"question": args.question, "task": args.task, "model": args.model, "api_base": args.api_base,
              "image": args.image, "video": args.video, **traj.to_dict(), "tool_image_files": [p.name for p in saved.values()]}
    with tempfile.NamedTemporaryFile("w", dir=save_dir, suffix=".json", delete=False) as tmp:
        json.dump(record, tmp, indent=2)
    os.replace(tmp.name, save_dir / "trajectory.json")
    return saved


def _save_overlay(save_dir: Path, traj, args, backend) -> Path:
    """The final answer drawn on the input image as its task draws it (boxes, points; the mask for
    segmentation) -> answer.png."""

    from vlmr.media.image import open_rgb
    from vlmr.render import read_answer, render_answer
    from vlmr.tasks import get_task

    image = open_rgb(args.image)
    answer = read_answer(traj.final_text, args.task, backend.coordinate_space(*image.size))
    segmenter = None
    if get_task(args.task).segments:
        from vlmr.tools.segmenters import get_segmenter

        segmenter = get_segmenter(args.segmenter)
    path = save_dir / "answer.png"
    render_answer(image, answer, args.task, segmenter).save(path)
    return path


def run(args: argparse.Namespace) -> int:
    """Run one agent episode and print it; returns 0, or 1 if generation failed, 2 on bad input."""
    from rich.console import Console
    from rich.markup import escape

    from vlmr.inference import load_backend, run_batch

    console = Console()
    try:
        media = Path(args.image or args.video)
        if not media.is_file():
            raise FileNotFoundError(f"{media} not found")
        backend = load_backend(args.model, args.api_base, **generation_options(args))
        request, _ = _request(args, backend)
    except (FileNotFoundError, ValueError, OSError) as e:
        console.print(f"[red]error:[/red] {escape(str(e))}")
        return 2
    [traj] = run_batch(backend, [request], max_turns=args.max_turns)
    saved = _save(Path(args.save_dir), traj, args)
    _print(console, traj, saved)
    console.print(f"saved {len(saved)} tool image(s) and trajectory.json to {escape(str(args.save_dir))}")
    if args.image and not traj.error:
        overlay = _save_overlay(Path(args.save_dir), traj, args, backend)
        console.print(f"answer drawn on the image: {escape(str(overlay))}")
    if traj.error:
        console.print(f"[red]generation failed:[/red] {escape(traj.error)}")
        return 1
    return 0
