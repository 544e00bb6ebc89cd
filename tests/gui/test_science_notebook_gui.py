"""A notebook as an astronomer uses it: open a notebook in /arc/home, run it, and see astropy read a
FITS file and matplotlib plot it, in the app's tab."""

from __future__ import annotations

import json
import os
from typing import Any

from canfar_desktop.core.lifecycle import State

from ..integration.science_fixtures import write_fits
from .conftest import js_value, screenshot, state_of, wait_js_true
from .test_desktop_apps_gui import home_of
from .test_launch_notebook import JUPYTERLAB_LOADED

CELLS = [
    "import astropy, numpy as np, matplotlib.pyplot as plt\n"
    "from astropy.io import fits\n"
    "from astropy.visualization import simple_norm\n"
    "print('astropy', astropy.__version__, '| numpy', np.__version__)",
    "data = fits.getdata('field.fits')\n"
    "fig, ax = plt.subplots(figsize=(6, 4.5))\n"
    "im = ax.imshow(data, origin='lower', cmap='magma', norm=simple_norm(data, 'sqrt'))\n"
    "fig.colorbar(im, label='counts')\n"
    "ax.set_title(f'field.fits: {data.shape[1]}x{data.shape[0]}, peak {data.max():.0f} counts')\n"
    "plt.show()",
]


def notebook_json() -> str:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source.splitlines(keepends=True)} for source in CELLS]
    return json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 4, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}})


def own(service: Any, path: Any) -> Any:
    os.chown(path, service.settings.uid, service.settings.gid)
    return path


def test_notebook_imports_astropy_and_plots_a_fits_file(make_app: Any, qtbot: Any,
                                                        session_images: dict[str, str]) -> None:
    parts = make_app()
    window, service = parts.window, parts.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    home = home_of(service)
    own(service, write_fits(home / "field.fits"))
    (home / "astro.ipynb").write_text(notebook_json())
    own(service, home / "astro.ipynb")
    # the person's own JupyterLab settings (in /arc/home, as CANFAR keeps them): let the test drive the page
    config = home / ".jupyter"
    config.mkdir(exist_ok=True)
    own(service, config)
    (config / "jupyter_lab_config.json").write_text(json.dumps({"LabApp": {"expose_app_in_browser": True}}))

    window.launch(service.prepare_launch("notebook", session_images["notebook"], "gui-astropy"))
    qtbot.waitUntil(lambda: state_of(window, "gui-astropy") == State.RUNNING, timeout=120000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, JUPYTERLAB_LOADED + " && !!window.jupyterapp", timeout=60000)
    path = f"arc/home/{service.settings.user}/astro.ipynb"
    js_value(qtbot, tab, "window.jupyterapp.commands.execute('docmanager:open', "
                         f"{{path: '{path}', factory: 'Notebook', kernel: {{name: 'python3'}}}}) && true")
    wait_js_true(qtbot, tab, "document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length >= 2", timeout=30000)
    # the notebook's panel, whether or not the page has the keyboard focus (the tests' window may not)
    panel = "Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.title.label === 'astro.ipynb')"
    wait_js_true(qtbot, tab, f"{panel}?.sessionContext?.session?.kernel?.status === 'idle'", timeout=60000)
    window.activateWindow()  # the page runs the notebook that has the focus, as for a person clicking in it
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    tab.view.setFocus()
    # (a message box the page shows, such as a theme that loaded slowly, is answered first)
    wait_js_true(qtbot, tab, "(() => { document.querySelectorAll('.jp-Dialog .jp-mod-accept').forEach(b => b.click());"
                 f" const p = {panel}; window.jupyterapp.shell.activateById(p.id);"
                 " return window.jupyterapp.shell.currentWidget === p; })()", timeout=20000)
    js_value(qtbot, tab, "window.jupyterapp.commands.execute('notebook:run-all-cells') && true")
    wait_js_true(qtbot, tab, "document.querySelector('.jp-NotebookPanel .jp-OutputArea-output img') !== null",
                 timeout=120000)
    text = js_value(qtbot, tab, "document.querySelector('.jp-NotebookPanel .jp-OutputArea-output').innerText")
    assert str(text).startswith("astropy "), text
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "notebook-astropy.png", qtbot, settle_ms=2500)
