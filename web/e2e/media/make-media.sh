#!/usr/bin/env bash
# Remakes the media files of media.e2e.mjs (they are committed, so the tests need
# no encoder): a 30-second 160x120 VP8 WebM test pattern (about 240 KiB, its
# seek index at the end, a key frame every second) and a 4-second 440 Hz Opus
# tone in Ogg (about 9 KiB). Uses the ffmpeg build shipped in the imageio-ffmpeg
# package, in a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check imageio-ffmpeg==0.6.0
ffmpeg="$("$venv/bin/python" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')"
"$ffmpeg" -hide_banner -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=30 \
  -c:v libvpx -b:v 64k -g 10 -an -fflags +bitexact clip.webm
"$ffmpeg" -hide_banner -loglevel error -y -f lavfi -i sine=frequency=440:duration=4 \
  -c:a libopus -b:a 16k -fflags +bitexact tone.ogg
ls -l clip.webm tone.ogg
