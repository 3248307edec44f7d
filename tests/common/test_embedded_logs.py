"""The embedded runner's process logs under var/log are rotated, so they cannot grow without
bound while the console runs."""

from __future__ import annotations

import subprocess
import sys

from martech.common.management.commands.run_embedded import LOG_BACKUPS, LOG_MAX_BYTES, Output


def _pump(tmp_path, lines: int, **limits) -> list:
    code = f"for n in range({lines}): print(f'{{n:06d}} ' + 'x' * 93)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    said = []
    output = Output("web", process, tmp_path / "web.log", said.append, **limits)
    process.wait(timeout=30)
    output.tail()  # waits for the reader to drain the pipe
    return said


def test_a_process_log_rolls_over_at_its_size_and_keeps_a_bounded_number_of_old_files(tmp_path):
    # given: 3,000 lines of 101 bytes (about 300 KB) into a log capped at 50 KB with 2 old files
    # when
    said = _pump(tmp_path, 3000, max_bytes=50_000, backups=2)

    # then: the newest lines are in web.log, the two before in .1 and .2, nothing older kept
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["web.log", "web.log.1", "web.log.2"]
    assert all((tmp_path / name).stat().st_size <= 50_000 for name in files)
    last = (tmp_path / "web.log").read_text(encoding="utf-8").splitlines()
    assert last[-1].startswith("002999 ")
    older = (tmp_path / "web.log.1").read_text(encoding="utf-8").splitlines()
    assert int(older[-1][:6]) + 1 == int(last[0][:6])  # no line lost at the rollover
    assert said == []  # ordinary lines stay out of the terminal


def test_the_default_rotation_is_a_few_megabytes_with_a_handful_of_old_files():
    assert 1024 * 1024 <= LOG_MAX_BYTES <= 100 * 1024 * 1024
    assert 2 <= LOG_BACKUPS <= 10
