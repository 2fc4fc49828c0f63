"""``SummaryWriter``: write TensorBoard event files, as ``torch.utils.tensorboard`` does.

Events go through TensorBoard's own ``EventFileWriter`` (a queue flushed by a thread every
``flush_secs`` or when ``max_queue`` events wait), so the files are exactly what the
TensorBoard server and its ``EventAccumulator`` read.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import _summary
from ._graph import graph_def

__all__ = ["SummaryWriter"]


def _default_logdir(comment: str) -> str:
    """runs/<Mon><day>_<H>-<M>-<S>_<host><comment>, PyTorch's default."""
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Writes scalars, histograms, images, text, hparams and the graph to ``log_dir``.

    Args:
        log_dir: where the event files go; default ``runs/DATETIME_HOST`` + ``comment``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: on reopening a crashed run, TensorBoard drops events at this step and
            later from earlier files.
        max_queue: events held before a write is forced.
        flush_secs: seconds between flushes to disk.
        filename_suffix: appended to every event file's name.

    >>> import tempfile
    >>> with SummaryWriter(tempfile.mkdtemp()) as w:
    ...     w.add_scalar("loss", 0.5, global_step=1)
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        self.log_dir = str(log_dir) if log_dir is not None else _default_logdir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._writer: EventFileWriter | None = None
        self._scalar_writers: dict[str, EventFileWriter] = {}
        self._open()

    def _open(self) -> EventFileWriter:
        if self._writer is None:
            self._writer = EventFileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                           self.filename_suffix)
            if self.purge_step is not None:
                start = Event(step=self.purge_step, wall_time=time.time(),
                              session_log=SessionLog(status=SessionLog.START))
                self._writer.add_event(start)
                self.purge_step = None
        return self._writer

    def get_logdir(self) -> str:
        """The directory event files are written to."""
        return self.log_dir

    def _emit(self, summary, global_step, walltime, writer=None) -> None:
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        (writer or self._open()).add_event(event)

    # ------------------------------------------------------------------ scalars
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one number (a Python number, a NumPy scalar or a one-element Tensor)."""
        self._emit(_summary.scalar(tag, scalar_value, new_style, double_precision),
                   global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Several curves on one chart: each goes to its own run,
        ``log_dir/<main_tag>_<tag>``, under the tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            writer = self._scalar_writers.get(path)
            if writer is None:
                writer = EventFileWriter(path, self.max_queue, self.flush_secs,
                                         self.filename_suffix)
                self._scalar_writers[path] = writer
            self._emit(_summary.scalar(main_tag, value), global_step, walltime, writer)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        """Log the distribution of ``values`` (see ``_summary.histogram`` for ``bins``)."""
        self._emit(_summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    # ------------------------------------------------------------------ images
    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """Log one image: floats in [0, 1] or uint8, laid out as ``dataformats``."""
        hwc = _summary.to_hwc(_summary.to_numpy(img_tensor), dataformats)
        self._emit(_summary.image(tag, _summary.to_uint8(hwc)), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """Log a batch of images, tiled eight to a row into one image."""
        batch = _summary.to_numpy(img_tensor)
        fmt = dataformats.upper()
        if "N" not in fmt or batch.ndim != len(fmt):
            raise ValueError(f"dataformats {dataformats!r} does not fit images of shape "
                             f"{batch.shape}")
        batch = np.moveaxis(batch, fmt.index("N"), 0)
        one = fmt.replace("N", "")
        tiles = np.stack([_summary.to_hwc(b, one) for b in batch])
        self._emit(_summary.image(tag, _summary.to_uint8(_summary.grid(tiles))),
                   global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:
        """Log a matplotlib figure (or a list of them, as a batch) rendered to RGBA."""
        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        arrays = [_render(f, close) for f in figures]
        if isinstance(figure, (list, tuple)):
            self.add_images(tag, np.stack(arrays), global_step, walltime, dataformats="NHWC")
        else:
            self.add_image(tag, arrays[0], global_step, walltime, dataformats="HWC")

    # ------------------------------------------------------------------ text, hparams, graph
    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Log a string (markdown) for the text dashboard."""
        self._emit(_summary.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name: str | None = None, global_step=None) -> None:
        """Log one hyperparameter set and its metrics, in a run of its own (``run_name``,
        default the current time) under ``log_dir``."""
        summaries = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run = run_name if run_name is not None else str(time.time())
        path = os.path.join(self.log_dir, run) if not os.path.isabs(run) else run
        with SummaryWriter(log_dir=path) as w:
            for s in summaries:
                w._emit(s, None, None)
            for key, value in metric_dict.items():
                w.add_scalar(key, value, global_step)

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Log the autograd graph of ``model(*input_to_model)``: one node per op with its
        output shapes, parameters named by module path."""
        graph = graph_def(model, input_to_model)
        if verbose:
            print(graph)
        self._open().add_event(Event(graph_def=graph.SerializeToString(),
                                     wall_time=time.time()))

    # ------------------------------------------------------------------ lifecycle
    def flush(self) -> None:
        """Write pending events to disk."""
        for w in [self._writer, *self._scalar_writers.values()]:
            if w is not None:
                w.flush()

    def close(self) -> None:
        """Flush and close every event file; a later add_* opens a new file."""
        for w in [self._writer, *self._scalar_writers.values()]:
            if w is not None:
                w.flush()
                w.close()
        self._writer = None
        self._scalar_writers = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _render(figure, close: bool) -> np.ndarray:
    """A matplotlib figure as an HWC uint8 RGBA array."""
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba()).copy()
    if close:
        import matplotlib.pyplot as plt  # matplotlib is optional: only needed for figures

        plt.close(figure)
    return rgba
