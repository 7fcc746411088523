"""matplotlib without a display, and figures turned into PNG bytes.

matplotlib is imported only when a figure is drawn, so the readers and the
*_data() functions work without it; a missing matplotlib raises
MatplotlibMissing with the Debian package to install. Figures are built with
the object API (matplotlib.figure.Figure on an Agg canvas), never pyplot: no
global state, nothing to close, no display needed.
"""

import base64
import io

# One colour per path, pair state and round-trip path, the same in every plot.
PATH_COLORS = {"direct": "#2ca02c", "local": "#1f77b4", "derp": "#ff7f0e", "none": "#7f7f7f",
               "asymmetric": "#9467bd", "mixed": "#9467bd", "lost": "#d62728"}


class MatplotlibMissing(Exception):
    pass


def new_figure(width_in: float, height_in: float):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MatplotlibMissing(
            f"matplotlib is not available to {__import__('sys').executable} ({e}); "
            "install Debian's python3-matplotlib (scripts/setup.sh does)") from None
    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    # No timestamp or version in the file: the same data gives the same bytes.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def png_base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")
